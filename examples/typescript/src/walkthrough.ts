// The guide's walkthroughs against a running server (docs/guide.md): one ACO
// request for the demo customer Coho Winery from the eligibility check to the
// customer's signature, then the demo customer Blue Yonder Airlines' credit as
// its reseller Fabrikam sees it. One line per step; any failure exits non-zero.
import { apiUrl, mutate, request, UserErrorsError } from './client.js';
import type { AcoRequestStateFragment, SubmitAcoRequestInput } from './gql/graphql.js';
import {
  AcoEligibility,
  AcoRequestHistory,
  ApproveAcoRequest,
  CreditBalance,
  Customers,
  PassAcoComplianceCheck,
  PublishAcoAgreement,
  Reconciliation,
  SignAcoAgreement,
  SubmitAcoRequest,
  SupportAcoRequest,
} from './operations.js';

/** The development tokens the walkthrough acts with, one per role (README.md says how to mint them). */
const tokens = readTokens({
  partner: 'ACO_TOKEN_PARTNER',
  plsr: 'ACO_TOKEN_PLSR',
  channelSales: 'ACO_TOKEN_CHANNEL_SALES',
  finance: 'ACO_TOKEN_FINANCE',
  operations: 'ACO_TOKEN_OPERATIONS',
  signer: 'ACO_TOKEN_SIGNER',
  reseller: 'ACO_TOKEN_RESELLER',
});

async function main(): Promise<void> {
  console.log(`aco-api at ${apiUrl}`);

  // 1. The partner finds its customer and checks the deal before submitting.
  const coho = await findCustomer('Coho Winery', tokens.partner);
  step('customer', `${coho.companyName} ${coho.id}`);
  const deal: Omit<SubmitAcoRequestInput, 'clientMutationId'> = {
    customerId: coho.id,
    estimatedAcr: '12345.67',
    scenario: 'MIGRATION',
    workloads: ['Azure Kubernetes Service'],
    timeline: { start: '2027-02-01', end: '2027-07-31' },
  };
  const { acoEligibility: eligibility } = await request(AcoEligibility, { input: deal }, tokens.partner);
  const failing = eligibility.rules.filter((rule) => !rule.passed);
  if (!eligibility.eligible) {
    throw new Error(`not eligible: ${failing.map((rule) => `${rule.code} (${rule.remedy ?? rule.message})`).join(', ')}`);
  }
  step('eligibility', `eligible, ${eligibility.rules.length} rules passed, ACR ${deal.estimatedAcr} -> ACO ${eligibility.acoAmount}`);

  // 2. Submit it: SUBMITTED, version 1, due in 5 US business days.
  const submitted = await mutate(SubmitAcoRequest, 'submitAcoRequest', deal, tokens.partner);
  let current = state('submitted', submitted.acoRequest);

  // 3. Review: each step carries the version its reviewer saw (FLOW-18).
  const compliance = await mutate(PassAcoComplianceCheck, 'passAcoComplianceCheck', {
    id: current.id,
    version: current.version,
    channelSalesManager: 'sales@programme.example',
  }, tokens.plsr);
  current = state('compliance', compliance.acoRequest);

  const support = await mutate(SupportAcoRequest, 'supportAcoRequest', {
    id: current.id,
    version: current.version,
    comment: 'Strong migration case.',
  }, tokens.channelSales);
  current = state('support', support.acoRequest);

  const approval = await mutate(ApproveAcoRequest, 'approveAcoRequest', {
    id: current.id,
    version: current.version,
  }, tokens.finance);
  current = state('approve', approval.acoRequest);

  // Acting on a version that is no longer the request's is refused, and changes nothing.
  const stale = await refused(mutate(ApproveAcoRequest, 'approveAcoRequest', {
    id: current.id,
    version: current.version - 1,
  }, tokens.finance));
  if (!stale.codes.includes('CONFLICT')) {
    throw new Error(`a stale version was refused with ${stale.codes.join(', ')}, not CONFLICT`);
  }
  step('stale', `approveAcoRequest on v${current.version - 1} refused: ${stale.codes.join(', ')}`);

  // 4. Operations publishes the ACO agreement; it may be signed until the end of this month.
  const published = await mutate(PublishAcoAgreement, 'publishAcoAgreement', {
    id: current.id,
    version: current.version,
    signerName: 'Jordan Signer',
    signerEmail: 'jordan.signer@cohowinery.com',
  }, tokens.operations);
  current = state('publish', published.acoRequest);
  const agreement = present('publishAcoAgreement.acoAgreement', published.acoAgreement);
  step('agreement', `${agreement.status} ${agreement.acoAmount} for ${agreement.creditPeriodMonths} months, expires ${agreement.expiresAt}`);

  // 5. The customer's signer signs: the credit is granted at once and the request is ACTIVE.
  const signed = await mutate(SignAcoAgreement, 'signAcoAgreement', { agreementId: agreement.id }, tokens.signer);
  const signedAgreement = present('signAcoAgreement.acoAgreement', signed.acoAgreement);
  const grant = present('signAcoAgreement.creditGrant', signed.creditGrant);
  step('sign', `${signedAgreement.status} at ${signedAgreement.signedAt}, credit ${grant.amount} ${grant.status} ${grant.firstMonth}..${grant.lastMonth}`);

  // 6. The whole story, as the partner sees it.
  const story = present('acoRequest', (await request(AcoRequestHistory, { id: current.id }, tokens.partner)).acoRequest);
  step('history', `${story.status} v${story.version}, ACO ${story.acoAmount}, ${story.history.totalCount} entries`);
  for (const entry of story.history.nodes) {
    step('', `${entry.at} ${entry.action} ${entry.fromStatus ?? '-'} -> ${entry.toStatus} by ${entry.actorRole} ${entry.actorSubject}`);
  }

  // 7. Credits: Blue Yonder Airlines' 500.00, used up in its sixth month, as its reseller sees it.
  const blue = await findCustomer('Blue Yonder Airlines', tokens.reseller);
  const credit = present('customer', (await request(CreditBalance, { id: blue.id }, tokens.reseller)).customer);
  const balance = credit.creditBalance;
  step('balance', `${credit.companyName}: granted ${balance.granted}, used ${balance.used}, remaining ${balance.remaining}, lapsed ${balance.lapsed} ${balance.currencyCode}`);
  for (const g of balance.grants) {
    step('', `grant ${g.granted} ${g.status}, remaining ${g.remaining}${g.exhaustedIn ? `, exhausted in ${g.exhaustedIn}` : ''}`);
  }
  // "YYYY-MM" sorts as text; the range is every month with usage.
  const months = credit.monthlyUsage.map((usage) => usage.month).sort();
  const from = months[0];
  const to = months[months.length - 1];
  if (from === undefined || to === undefined) {
    throw new Error(`${credit.companyName} has no usage recorded`);
  }
  const { customer: ledger } = await request(Reconciliation, { id: blue.id, from, to }, tokens.reseller);
  step('reconcile', columns(['month', 'ACR', 'opening', 'applied', 'above ACO', 'PEC', 'invoice', 'closing']));
  for (const m of present('customer', ledger).reconciliation) {
    step('', columns([m.month, m.acr, m.openingBalance, m.applied, m.aboveAco ?? '-', m.pec ?? '-', m.invoiceAmount ?? '-', m.closingBalance]));
  }
}

async function findCustomer(companyName: string, token: string): Promise<{ id: string; companyName: string }> {
  const { customers } = await request(Customers, { search: companyName }, token);
  const customer = customers.nodes.find((node) => node?.companyName === companyName);
  if (!customer) {
    throw new Error(`customer ${companyName} not found among the caller's customers`);
  }
  return customer;
}

/** Prints a request's state after a step, and answers it for the next step. */
function state(label: string, acoRequest: AcoRequestStateFragment | null | undefined): AcoRequestStateFragment {
  const current = present(`${label}: acoRequest`, acoRequest);
  const due = current.dueAt ? `, ${current.stage} due ${current.dueAt}` : '';
  step(label, `${current.status} v${current.version}, ACO ${current.acoAmount}${due}`);
  return current;
}

/** Answers the refusal a mutation was expected to meet; anything else fails. */
async function refused(call: Promise<unknown>): Promise<UserErrorsError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof UserErrorsError) {
      return error;
    }
    throw error;
  }
  throw new Error('the mutation was expected to be refused, and was not');
}

function present<T>(what: string, value: T | null | undefined): T {
  if (value == null) {
    throw new Error(`${what} is missing from the answer`);
  }
  return value;
}

/** Amounts are printed as the API sent them: decimal strings, right-aligned. */
function columns(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(7) : cell.padStart(9))).join(' ');
}

function step(label: string, text: string): void {
  console.log(`${label.padEnd(12)} ${text}`);
}

function readTokens<K extends string>(names: Record<K, string>): Record<K, string> {
  const missing = Object.values<string>(names).filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.error(`missing tokens: ${missing.join(', ')} (see README.md)`);
    process.exit(2);
  }
  return Object.fromEntries(
    Object.entries<string>(names).map(([key, name]) => [key, process.env[name] ?? '']),
  ) as Record<K, string>;
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  // fetch's own failures (a refused connection, say) say why in their cause.
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  console.error(`walkthrough failed: ${message}${cause}`);
  process.exitCode = 1;
});
