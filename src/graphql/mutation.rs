//! Mutations: each takes one `input` and returns a payload with `userErrors`.
//! The caller's role is checked first by the [role gate](super::gate)
//! (`FORBIDDEN` whatever the input), then the input's shape (`BAD_USER_INPUT`), then the business rules inside one
//! write transaction (refusals in `userErrors`, nothing changed).

use async_graphql::{Context, Object};

use super::input::*;
use super::types::{Customer, CustomerAgreement, Partner, ResellerRelationship};
use super::{to_gql, write};
use crate::domain::ids::IdKind;
use crate::error::Result;
use crate::service::{customers, partners, relationships};

/// Partners, customers, relationships and their agreements.
#[derive(Default)]
pub struct CoreMutation;

/// The mutation root: `Mutation` in the schema.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    CoreMutation,
    super::aco::AcoMutation,
    super::credits::CreditsMutation,
    super::benefits::BenefitsMutation,
    super::authorization::AuthorizationMutation,
    super::webhook_mutation::WebhookMutation,
);

fn checked<T>(ctx: &Context<'_>, value: Result<T>) -> async_graphql::Result<T> {
    value.map_err(|e| to_gql(ctx, e))
}

/// Declares one payload type per mutation for mutations that answer the same
/// objects (GitHub's convention: a client's types for one mutation never
/// change with another's). Each has the objects (`null` when refused), the
/// refusals and the input's `clientMutationId`, and is made by `of` from a
/// use case's outcome.
macro_rules! payloads {
    ($fields:tt $($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        $(crate::graphql::mutation::payload!($(#[$doc])* $name $fields);)+
    };
}
pub(crate) use payloads;

/// One payload type of [`payloads`].
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $(#[$fdoc:meta])* $field:ident: $fty:ty $(,)? }) => {
        crate::graphql::mutation::payload!(@struct $(#[$doc])* $name { $(#[$fdoc])* $field: $fty });
        impl $name {
            pub fn of(
                outcome: std::result::Result<$fty, Vec<crate::error::UserError>>,
                client_mutation_id: Option<String>,
            ) -> Self {
                let ($field, user_errors) = match outcome {
                    Ok(value) => (Some(value), Vec::new()),
                    Err(errors) => (None, errors),
                };
                $name { $field, user_errors, client_mutation_id }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $fty:ty),+ $(,)? }) => {
        crate::graphql::mutation::payload!(@struct $(#[$doc])* $name { $($(#[$fdoc])* $field: $fty),+ });
        impl $name {
            pub fn of(
                outcome: std::result::Result<($($fty,)+), Vec<crate::error::UserError>>,
                client_mutation_id: Option<String>,
            ) -> Self {
                match outcome {
                    Ok(($($field,)+)) => $name {
                        $($field: Some($field),)+
                        user_errors: Vec::new(),
                        client_mutation_id,
                    },
                    Err(user_errors) => $name {
                        $($field: None,)+
                        user_errors,
                        client_mutation_id,
                    },
                }
            }
        }
    };
    (@struct $(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident: $fty:ty),+ }) => {
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject)]
        #[graphql(serial)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: Option<$fty>,)+
            /// Business-rule refusals, all at once; when there are any, nothing was changed.
            #[graphql(
                complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
            )]
            pub user_errors: Vec<crate::error::UserError>,
            /// The input's `clientMutationId`, echoed back.
            pub client_mutation_id: Option<String>,
        }
    };
}
pub(crate) use payload;

crate::graphql::mutation::payload! {
    /// The result of `createPartner`.
    CreatePartnerPayload {
        /// The new partner; null when refused.
        partner: Partner,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `updatePartner`.
    UpdatePartnerPayload {
        /// The partner as changed; null when refused.
        partner: Partner,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `linkIndirectReseller`.
    LinkIndirectResellerPayload {
        /// The linked indirect reseller; null when refused.
        reseller: Partner,
        /// The indirect provider it is now linked to; null when refused.
        provider: Partner,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `signPartnerAgreement` (AGR-1).
    SignPartnerAgreementPayload {
        /// The caller's partner, with the signed MPA; null when refused.
        partner: Partner,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `createCustomer`.
    CreateCustomerPayload {
        /// The new customer; null when refused.
        customer: Customer,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `updateCustomer`.
    UpdateCustomerPayload {
        /// The customer as changed; null when refused.
        customer: Customer,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `recordCustomerAgreement` (AGR-2).
    RecordCustomerAgreementPayload {
        /// The customer whose MCA acceptance was recorded; null when refused.
        customer: Customer,
        /// The MCA acceptance just recorded; null when refused.
        customer_agreement: CustomerAgreement,
    }
}

crate::graphql::mutation::payload! {
    /// The result of `confirmCustomerAgreement` (AGR-2, ELIG-7).
    ConfirmCustomerAgreementPayload {
        /// The customer whose MCA acceptance the caller's partner confirmed; null when refused.
        customer: Customer,
    }
}

payloads! {
    {
        /// The relationship as it now is; null when refused.
        relationship: ResellerRelationship,
    }
    /// The result of `requestResellerRelationship`.
    RequestResellerRelationshipPayload,
    /// The result of `acceptResellerRelationship`.
    AcceptResellerRelationshipPayload,
    /// The result of `revokeResellerRelationship`.
    RevokeResellerRelationshipPayload,
}

#[Object(serial)]
impl CoreMutation {
    /// Programme admin: adds a CSP partner.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to add.")] input: CreatePartnerInput,
    ) -> async_graphql::Result<CreatePartnerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let new = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| partners::create_partner(tx, call, new)).await?;
        Ok(CreatePartnerPayload::of(
            outcome.map(Partner::from),
            client_mutation_id,
        ))
    }

    /// Programme admin: changes a partner's company details.
    async fn update_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partner to change and the fields to change; fields left out stay as they are."
        )]
        input: UpdatePartnerInput,
    ) -> async_graphql::Result<UpdatePartnerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (id, changes) = checked(ctx, input.into_changes())?;
        let outcome = write(ctx, move |tx, call| {
            partners::update_partner(tx, call, &id, changes)
        })
        .await?;
        Ok(UpdatePartnerPayload::of(
            outcome.map(Partner::from),
            client_mutation_id,
        ))
    }

    /// Programme admin: links an indirect reseller to an indirect provider.
    async fn link_indirect_reseller(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indirect reseller and the indirect provider to link.")]
        input: LinkIndirectResellerInput,
    ) -> async_graphql::Result<LinkIndirectResellerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (reseller_id, provider_id) = checked(ctx, input.ids())?;
        let outcome = write(ctx, move |tx, call| {
            partners::link_indirect_reseller(tx, call, &reseller_id, &provider_id)
        })
        .await?;
        Ok(LinkIndirectResellerPayload::of(
            outcome.map(|(r, p)| (Partner::from(r), Partner::from(p))),
            client_mutation_id,
        ))
    }

    /// AGR-1, partner admin: records the partner's signature of the Microsoft Partner Agreement.
    async fn sign_partner_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who signed the MPA for the caller's partner, and when.")]
        input: SignPartnerAgreementInput,
    ) -> async_graphql::Result<SignPartnerAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (name, email, date) = checked(ctx, input.checked())?;
        let outcome = write(ctx, move |tx, call| {
            partners::sign_partner_agreement(tx, call, name, email, date)
        })
        .await?;
        Ok(SignPartnerAgreementPayload::of(
            outcome.map(Partner::from),
            client_mutation_id,
        ))
    }

    /// Partner admin (with an active relationship to the new customer) or programme admin.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to create.")] input: CreateCustomerInput,
    ) -> async_graphql::Result<CreateCustomerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let new = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| {
            customers::create_customer(tx, call, new)
        })
        .await?;
        Ok(CreateCustomerPayload::of(
            outcome.map(Customer::from),
            client_mutation_id,
        ))
    }

    /// Partner admin of a partner with an active relationship, or programme admin.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The customer to change and the fields to change; fields left out stay as they are."
        )]
        input: UpdateCustomerInput,
    ) -> async_graphql::Result<UpdateCustomerPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (id, changes) = checked(ctx, input.into_changes())?;
        let outcome = write(ctx, move |tx, call| {
            customers::update_customer(tx, call, &id, changes)
        })
        .await?;
        Ok(UpdateCustomerPayload::of(
            outcome.map(Customer::from),
            client_mutation_id,
        ))
    }

    /// AGR-2: records the customer's acceptance of the Microsoft Customer Agreement.
    async fn record_customer_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The customer, the date and the person that accepted the MCA, and how it was accepted."
        )]
        input: RecordCustomerAgreementInput,
    ) -> async_graphql::Result<RecordCustomerAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (id, new) = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| {
            customers::record_customer_agreement(tx, call, &id, new)
        })
        .await?;
        Ok(RecordCustomerAgreementPayload::of(
            outcome.map(|(c, a)| (Customer::from(c), CustomerAgreement(a))),
            client_mutation_id,
        ))
    }

    /// AGR-2, ELIG-7, partner admin: confirms the customer's MCA acceptance in the partner's records.
    async fn confirm_customer_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer whose MCA acceptance the caller's partner confirms.")] input: ConfirmCustomerAgreementInput,
    ) -> async_graphql::Result<ConfirmCustomerAgreementPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id = checked(
            ctx,
            input_id(&input.customer_id, "customerId", IdKind::Customer),
        )?;
        let outcome = write(ctx, move |tx, call| {
            customers::confirm_customer_agreement(tx, call, &id)
        })
        .await?;
        Ok(ConfirmCustomerAgreementPayload::of(
            outcome.map(Customer::from),
            client_mutation_id,
        ))
    }

    /// Partner admin: asks a customer (by its tenant id) for a reseller relationship.
    async fn request_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant id of the customer to ask.")]
        input: RequestResellerRelationshipInput,
    ) -> async_graphql::Result<RequestResellerRelationshipPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let tenant = checked(ctx, input.tenant())?;
        let outcome = write(ctx, move |tx, call| {
            relationships::request(tx, call, &tenant)
        })
        .await?;
        Ok(RequestResellerRelationshipPayload::of(
            outcome.map(ResellerRelationship),
            client_mutation_id,
        ))
    }

    /// The customer's signer (or a programme admin) accepts a pending relationship.
    async fn accept_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The pending relationship to accept.")]
        input: AcceptResellerRelationshipInput,
    ) -> async_graphql::Result<AcceptResellerRelationshipPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let id = checked(
            ctx,
            input_id(
                &input.relationship_id,
                "relationshipId",
                IdKind::ResellerRelationship,
            ),
        )?;
        let outcome = write(ctx, move |tx, call| relationships::accept(tx, call, &id)).await?;
        Ok(AcceptResellerRelationshipPayload::of(
            outcome.map(ResellerRelationship),
            client_mutation_id,
        ))
    }

    /// Either side (or a programme admin) ends a pending or active relationship.
    async fn revoke_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relationship to end, and optionally why.")]
        input: RevokeResellerRelationshipInput,
    ) -> async_graphql::Result<RevokeResellerRelationshipPayload> {
        let client_mutation_id = input.client_mutation_id.clone();
        let (id, reason) = checked(ctx, input.checked())?;
        let outcome = write(ctx, move |tx, call| {
            relationships::revoke(tx, call, &id, reason)
        })
        .await?;
        Ok(RevokeResellerRelationshipPayload::of(
            outcome.map(ResellerRelationship),
            client_mutation_id,
        ))
    }
}
