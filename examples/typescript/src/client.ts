// A small typed GraphQL client over fetch: one POST per operation, its
// variables and answer typed by the documents generated into src/gql/.
import type { TypedDocumentString, UserErrorCode } from './gql/graphql.js';

/** Where the API is: `ACO_API_URL`, else the local server's default address. */
export const apiUrl = process.env['ACO_API_URL'] ?? 'http://127.0.0.1:8080/graphql';

/** One entry of a response's top-level `errors`; the service always sets `extensions.code`. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; reason?: string; [key: string]: unknown };
}

/**
 * The request as a whole was refused or failed: top-level GraphQL `errors`
 * (`UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `BAD_USER_INPUT`, …), or an
 * HTTP failure without them.
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';

  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errors: readonly GraphQLErrorEntry[],
  ) {
    const detail = errors.map((e) => `${e.extensions?.code ?? 'NO_CODE'} (${e.message})`).join(', ');
    super(`${operation}: ${detail || `HTTP ${status}`}`);
  }

  /** Each error's `extensions.code`, in order. */
  get codes(): string[] {
    return this.errors.map((e) => e.extensions?.code ?? 'NO_CODE');
  }
}

/** A user error as the operations select it: `userErrors { code message field }`. */
export interface UserError {
  code: UserErrorCode;
  message: string;
  field: readonly string[] | null;
}

/** A mutation was refused by the rule book: its payload's `userErrors`; nothing was changed. */
export class UserErrorsError extends Error {
  override readonly name = 'UserErrorsError';

  constructor(
    readonly mutation: string,
    readonly userErrors: readonly UserError[],
  ) {
    super(`${mutation} refused: ${userErrors.map((e) => `${e.code} (${e.message})`).join(', ')}`);
  }

  /** Each refusal's code, e.g. `CONFLICT` or a failing eligibility rule's. */
  get codes(): UserErrorCode[] {
    return this.userErrors.map((e) => e.code);
  }
}

interface GraphQLResponse<TResult> {
  data?: TResult | null;
  errors?: GraphQLErrorEntry[];
}

/**
 * Posts one operation with its variables as the bearer of `token` and answers
 * its `data`; throws a `RequestError` on any top-level error.
 */
export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  token: string,
): Promise<TResult> {
  const query = document.toString();
  const operation = operationName(query);
  const response = await fetch(apiUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query, variables, operationName: operation }),
  });
  const body = await readBody<TResult>(response);
  if (body?.errors?.length) {
    throw new RequestError(operation, response.status, body.errors);
  }
  if (!response.ok || body?.data == null) {
    throw new RequestError(operation, response.status, []);
  }
  return body.data;
}

/** What every mutation's payload answers besides its objects, when the operation selects it. */
interface MutationPayload {
  clientMutationId: string | null;
  userErrors: readonly UserError[];
}

/**
 * Runs a mutation whose root field is `field` with `input`, under a fresh
 * `clientMutationId`, and answers its payload; throws if the payload does not
 * echo the id, and a `UserErrorsError` on any user error.
 */
export async function mutate<
  K extends string,
  TResult extends Record<K, MutationPayload>,
  TInput extends { clientMutationId?: string | null | undefined },
>(
  document: TypedDocumentString<TResult, { input: TInput }>,
  field: K,
  input: Omit<TInput, 'clientMutationId'>,
  token: string,
): Promise<TResult[K]> {
  const clientMutationId = crypto.randomUUID();
  // The input with the id is exactly a TInput; TypeScript cannot see through Omit.
  const data = await request(document, { input: { ...input, clientMutationId } as TInput }, token);
  const payload = data[field];
  // The payload echoes the id, acted or refused: an answer without it is not this call's.
  if (payload.clientMutationId !== clientMutationId) {
    throw new Error(`${field}: answered clientMutationId ${payload.clientMutationId}, sent ${clientMutationId}`);
  }
  if (payload.userErrors.length > 0) {
    throw new UserErrorsError(field, payload.userErrors);
  }
  return payload;
}

function operationName(query: string): string {
  return /\b(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'anonymous operation';
}

async function readBody<TResult>(response: Response): Promise<GraphQLResponse<TResult> | null> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    return null;
  }
  return (await response.json()) as GraphQLResponse<TResult>;
}
