//! Mutations: each takes one `input` and returns a payload with `userErrors`.
//! The caller's role is checked first by the [role gate](super::gate)
//! (`FORBIDDEN` whatever the input), then the input's shape (`BAD_USER_INPUT`), then the business rules inside one
//! write transaction (refusals in `userErrors`, nothing changed).

use async_graphql::{Context, Object, SimpleObject};

use super::input::*;
use super::types::{Customer, CustomerAgreement, Partner, ResellerRelationship};
use super::{to_gql, write};
use crate::domain::ids::IdKind;
use crate::error::{Result, UserError};
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
);

fn checked<T>(ctx: &Context<'_>, value: Result<T>) -> async_graphql::Result<T> {
    value.map_err(|e| to_gql(ctx, e))
}

/// Splits a use case's outcome into the payload's object and its user errors.
fn split<T, U>(
    outcome: std::result::Result<T, Vec<UserError>>,
    f: impl FnOnce(T) -> U,
) -> (Option<U>, Vec<UserError>) {
    match outcome {
        Ok(value) => (Some(f(value)), Vec::new()),
        Err(errors) => (None, errors),
    }
}

/// The result of `createPartner`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CreatePartnerPayload {
    /// The new partner; null when refused.
    pub partner: Option<Partner>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `updatePartner`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct UpdatePartnerPayload {
    /// The partner as changed; null when refused.
    pub partner: Option<Partner>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `linkIndirectReseller`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct LinkIndirectResellerPayload {
    /// The linked indirect reseller; null when refused.
    pub reseller: Option<Partner>,
    /// The indirect provider it is now linked to; null when refused.
    pub provider: Option<Partner>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `signPartnerAgreement` (AGR-1).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct SignPartnerAgreementPayload {
    /// The caller's partner, with the signed MPA; null when refused.
    pub partner: Option<Partner>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `createCustomer`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct CreateCustomerPayload {
    /// The new customer; null when refused.
    pub customer: Option<Customer>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `updateCustomer`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct UpdateCustomerPayload {
    /// The customer as changed; null when refused.
    pub customer: Option<Customer>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `recordCustomerAgreement` (AGR-2).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct RecordCustomerAgreementPayload {
    /// The customer whose MCA acceptance was recorded; null when refused.
    pub customer: Option<Customer>,
    /// The MCA acceptance just recorded; null when refused.
    pub customer_agreement: Option<CustomerAgreement>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of `confirmCustomerAgreement` (AGR-2, ELIG-7).
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ConfirmCustomerAgreementPayload {
    /// The customer whose MCA acceptance the caller's partner confirmed; null when refused.
    pub customer: Option<Customer>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

/// The result of a reseller relationship mutation: request, accept or revoke.
#[derive(SimpleObject)]
#[graphql(serial)]
pub struct ResellerRelationshipPayload {
    /// The relationship as it now is; null when refused.
    pub relationship: Option<ResellerRelationship>,
    /// Business-rule refusals, all at once; when there are any, nothing was changed.
    #[graphql(
        complexity = "crate::graphql::cost::items(crate::graphql::cost::USER_ERRORS, child_complexity)"
    )]
    pub user_errors: Vec<UserError>,
}

#[Object(serial)]
impl CoreMutation {
    /// Programme admin: adds a CSP partner.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to add.")] input: CreatePartnerInput,
    ) -> async_graphql::Result<CreatePartnerPayload> {
        let new = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| partners::create_partner(tx, call, new)).await?;
        let (partner, user_errors) = split(outcome, Partner::from);
        Ok(CreatePartnerPayload {
            partner,
            user_errors,
        })
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
        let (id, changes) = checked(ctx, input.into_changes())?;
        let outcome = write(ctx, move |tx, call| {
            partners::update_partner(tx, call, &id, changes)
        })
        .await?;
        let (partner, user_errors) = split(outcome, Partner::from);
        Ok(UpdatePartnerPayload {
            partner,
            user_errors,
        })
    }

    /// Programme admin: links an indirect reseller to an indirect provider.
    async fn link_indirect_reseller(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indirect reseller and the indirect provider to link.")]
        input: LinkIndirectResellerInput,
    ) -> async_graphql::Result<LinkIndirectResellerPayload> {
        let (reseller_id, provider_id) = checked(ctx, input.ids())?;
        let outcome = write(ctx, move |tx, call| {
            partners::link_indirect_reseller(tx, call, &reseller_id, &provider_id)
        })
        .await?;
        let (pair, user_errors) = split(outcome, |(r, p)| (Partner::from(r), Partner::from(p)));
        let (reseller, provider) = pair.map_or((None, None), |(r, p)| (Some(r), Some(p)));
        Ok(LinkIndirectResellerPayload {
            reseller,
            provider,
            user_errors,
        })
    }

    /// AGR-1, partner admin: records the partner's signature of the Microsoft Partner Agreement.
    async fn sign_partner_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who signed the MPA for the caller's partner, and when.")]
        input: SignPartnerAgreementInput,
    ) -> async_graphql::Result<SignPartnerAgreementPayload> {
        let (name, email, date) = checked(ctx, input.checked())?;
        let outcome = write(ctx, move |tx, call| {
            partners::sign_partner_agreement(tx, call, name, email, date)
        })
        .await?;
        let (partner, user_errors) = split(outcome, Partner::from);
        Ok(SignPartnerAgreementPayload {
            partner,
            user_errors,
        })
    }

    /// Partner admin (with an active relationship to the new customer) or programme admin.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to create.")] input: CreateCustomerInput,
    ) -> async_graphql::Result<CreateCustomerPayload> {
        let new = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| {
            customers::create_customer(tx, call, new)
        })
        .await?;
        let (customer, user_errors) = split(outcome, Customer::from);
        Ok(CreateCustomerPayload {
            customer,
            user_errors,
        })
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
        let (id, changes) = checked(ctx, input.into_changes())?;
        let outcome = write(ctx, move |tx, call| {
            customers::update_customer(tx, call, &id, changes)
        })
        .await?;
        let (customer, user_errors) = split(outcome, Customer::from);
        Ok(UpdateCustomerPayload {
            customer,
            user_errors,
        })
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
        let (id, new) = checked(ctx, input.into_new())?;
        let outcome = write(ctx, move |tx, call| {
            customers::record_customer_agreement(tx, call, &id, new)
        })
        .await?;
        let (pair, user_errors) =
            split(outcome, |(c, a)| (Customer::from(c), CustomerAgreement(a)));
        let (customer, customer_agreement) = pair.map_or((None, None), |(c, a)| (Some(c), Some(a)));
        Ok(RecordCustomerAgreementPayload {
            customer,
            customer_agreement,
            user_errors,
        })
    }

    /// AGR-2, ELIG-7, partner admin: confirms the customer's MCA acceptance in the partner's records.
    async fn confirm_customer_agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer whose MCA acceptance the caller's partner confirms.")] input: ConfirmCustomerAgreementInput,
    ) -> async_graphql::Result<ConfirmCustomerAgreementPayload> {
        let id = checked(
            ctx,
            input_id(&input.customer_id, "customerId", IdKind::Customer),
        )?;
        let outcome = write(ctx, move |tx, call| {
            customers::confirm_customer_agreement(tx, call, &id)
        })
        .await?;
        let (customer, user_errors) = split(outcome, Customer::from);
        Ok(ConfirmCustomerAgreementPayload {
            customer,
            user_errors,
        })
    }

    /// Partner admin: asks a customer (by its tenant id) for a reseller relationship.
    async fn request_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant id of the customer to ask.")]
        input: RequestResellerRelationshipInput,
    ) -> async_graphql::Result<ResellerRelationshipPayload> {
        let tenant = checked(ctx, input.tenant())?;
        let outcome = write(ctx, move |tx, call| {
            relationships::request(tx, call, &tenant)
        })
        .await?;
        let (relationship, user_errors) = split(outcome, ResellerRelationship);
        Ok(ResellerRelationshipPayload {
            relationship,
            user_errors,
        })
    }

    /// The customer's signer (or a programme admin) accepts a pending relationship.
    async fn accept_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The pending relationship to accept.")]
        input: AcceptResellerRelationshipInput,
    ) -> async_graphql::Result<ResellerRelationshipPayload> {
        let id = checked(
            ctx,
            input_id(
                &input.relationship_id,
                "relationshipId",
                IdKind::ResellerRelationship,
            ),
        )?;
        let outcome = write(ctx, move |tx, call| relationships::accept(tx, call, &id)).await?;
        let (relationship, user_errors) = split(outcome, ResellerRelationship);
        Ok(ResellerRelationshipPayload {
            relationship,
            user_errors,
        })
    }

    /// Either side (or a programme admin) ends a pending or active relationship.
    async fn revoke_reseller_relationship(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The relationship to end, and optionally why.")]
        input: RevokeResellerRelationshipInput,
    ) -> async_graphql::Result<ResellerRelationshipPayload> {
        let (id, reason) = checked(ctx, input.checked())?;
        let outcome = write(ctx, move |tx, call| {
            relationships::revoke(tx, call, &id, reason)
        })
        .await?;
        let (relationship, user_errors) = split(outcome, ResellerRelationship);
        Ok(ResellerRelationshipPayload {
            relationship,
            user_errors,
        })
    }
}
