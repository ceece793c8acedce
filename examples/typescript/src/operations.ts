// The operations of the guide's walkthroughs (docs/guide.md), typed by
// `npm run codegen` from ../../schema.graphql into src/gql/.
import { graphql } from './gql/index.js';

// The caller's customers a search finds (a prefix of each word of the name,
// or the whole domain or tenant id), by name; the walkthrough picks one.
export const Customers = graphql(`
  query Customers($search: String!) {
    customers(search: $search, orderBy: { field: NAME }, first: 10) {
      nodes {
        id
        companyName
      }
    }
  }
`);

export const AcoEligibility = graphql(`
  query AcoEligibility($input: AcoEligibilityInput!) {
    acoEligibility(input: $input) {
      eligible
      acoAmount
      rules {
        rule
        code
        passed
        message
        remedy
      }
    }
  }
`);

// What every review step answers about the request.
export const AcoRequestState = graphql(`
  fragment AcoRequestState on AcoRequest {
    id
    status
    version
    stage
    dueAt
    acoAmount
  }
`);

export const SubmitAcoRequest = graphql(`
  mutation SubmitAcoRequest($input: SubmitAcoRequestInput!) {
    submitAcoRequest(input: $input) {
      acoRequest {
        ...AcoRequestState
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

export const PassAcoComplianceCheck = graphql(`
  mutation PassAcoComplianceCheck($input: PassAcoComplianceCheckInput!) {
    passAcoComplianceCheck(input: $input) {
      acoRequest {
        ...AcoRequestState
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

export const SupportAcoRequest = graphql(`
  mutation SupportAcoRequest($input: SupportAcoRequestInput!) {
    supportAcoRequest(input: $input) {
      acoRequest {
        ...AcoRequestState
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

export const ApproveAcoRequest = graphql(`
  mutation ApproveAcoRequest($input: ApproveAcoRequestInput!) {
    approveAcoRequest(input: $input) {
      acoRequest {
        ...AcoRequestState
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

export const PublishAcoAgreement = graphql(`
  mutation PublishAcoAgreement($input: PublishAcoAgreementInput!) {
    publishAcoAgreement(input: $input) {
      acoRequest {
        ...AcoRequestState
      }
      acoAgreement {
        id
        status
        acoAmount
        creditPeriodMonths
        expiresAt
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

// The signer sees the agreement and the credit, not the partner's request.
export const SignAcoAgreement = graphql(`
  mutation SignAcoAgreement($input: SignAcoAgreementInput!) {
    signAcoAgreement(input: $input) {
      acoAgreement {
        id
        status
        signedAt
      }
      creditGrant {
        amount
        firstMonth
        lastMonth
        status
      }
      userErrors {
        code
        message
        field
      }
      clientMutationId
    }
  }
`);

// The request's whole story, as the partner sees it.
export const AcoRequestHistory = graphql(`
  query AcoRequestHistory($id: ID!) {
    acoRequest(id: $id) {
      status
      version
      acoAmount
      history(first: 50) {
        totalCount
        nodes {
          at
          action
          fromStatus
          toStatus
          actorRole
          actorSubject
          comment
        }
      }
    }
  }
`);

// A customer's ACO credit as the caller may see it, and the months with usage.
export const CreditBalance = graphql(`
  query CreditBalance($id: ID!) {
    customer(id: $id) {
      companyName
      creditBalance {
        granted
        used
        remaining
        lapsed
        currencyCode
        grants {
          status
          granted
          remaining
          exhaustedIn
        }
      }
      monthlyUsage {
        month
      }
    }
  }
`);

// Month by month: ACR, the balance before, what the credit covered, what is invoiced.
export const Reconciliation = graphql(`
  query Reconciliation($id: ID!, $from: Month!, $to: Month!) {
    customer(id: $id) {
      reconciliation(from: $from, to: $to) {
        month
        acr
        openingBalance
        applied
        aboveAco
        pec
        invoiceAmount
        closingBalance
      }
    }
  }
`);
