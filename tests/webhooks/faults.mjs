// Webhook delivery under faults, against the aco-api binary: a driver for
// scripts/webhook-test.sh. It starts loopback receivers and the server (dev
// mode, a fresh database, ACO_WEBHOOK_TIMEOUT_SECONDS=2), then runs each
// scenario and prints one line with its figures:
//
//   verified  every body verifies (standardwebhooks), every event arrives,
//             a partner's receiver gets only its partner's events
//   down      nothing listening at first; the retry arrives once it listens
//   500       two 500s for each message, then 204: each arrives on attempt 3
//   timeout   the first attempt held past the timeout; the retry arrives
//             with the same webhook-id
//   sigkill   the server killed (SIGKILL) with attempts in flight: after a
//             restart each arrives again, with the same webhook-id, none lost
//   latency   RATE updates a second for LATENCY_SECONDS: commit (the
//             mutation's answer) to receipt, p50/p99/max; p99 < 1000 ms
//
//   node faults.mjs --binary path/to/aco-api --work DIR [--latency-only]
//
// Exits 1 when a scenario fails. DIR receives the server's log (server.log)
// and its pid (server.pid), for the calling script to clean up after.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { openSync, writeFileSync, closeSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const BINARY = option("--binary");
const WORK = option("--work");
const LATENCY_ONLY = argv.includes("--latency-only");
const RATE = Number(process.env.RATE ?? 100);
const DURATION = Number(process.env.LATENCY_SECONDS ?? 20);
const P99_LIMIT_MS = 1000;
if (!BINARY || !WORK) {
  console.error("usage: node faults.mjs --binary PATH --work DIR [--latency-only]");
  process.exit(2);
}
if (!(RATE > 0) || !(DURATION > 0)) {
  console.error(`RATE (${process.env.RATE}) and SECONDS (${process.env.LATENCY_SECONDS}) must be positive numbers`);
  process.exit(2);
}

const PROGRAMME = "a0c0a0c0-0000-4000-8000-000000000001";
const CONTOSO = "11111111-1111-4111-8111-000000000001"; // direct bill partner
const FABRIKAM = "11111111-1111-4111-8111-000000000003"; // an indirect reseller

const log = (...a) => console.log("webhooks:", ...a);
const fmt = (ms) => `${Math.round(ms)} ms`;

class Failure extends Error {}
function check(ok, message) {
  if (!ok) throw new Failure(message);
}

// ---------------------------------------------------------------- the server

let server = null; // { child, port, exited }
const serverLog = join(WORK, "server.log");
let serverPort = 0;

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer() {
  if (!serverPort) serverPort = await freePort();
  const fd = openSync(serverLog, "a");
  writeFileSync(fd, `--- started ${new Date().toISOString()}\n`);
  const child = spawn(
    BINARY,
    ["serve", "--dev", "--demo", "--bind", `127.0.0.1:${serverPort}`, "--database-path", join(WORK, "aco.db")],
    { stdio: ["ignore", fd, fd], env: { ...process.env, ACO_WEBHOOK_TIMEOUT_SECONDS: "2" } },
  );
  closeSync(fd);
  const s = { child, port: serverPort, exited: false };
  child.on("exit", () => (s.exited = true));
  writeFileSync(join(WORK, "server.pid"), `${child.pid}\n`);
  server = s;
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    check(!s.exited, `the server stopped while starting (see ${serverLog})`);
    try {
      const r = await fetch(`http://127.0.0.1:${serverPort}/healthz`);
      if (r.ok) return s;
    } catch {}
    await sleep(50);
  }
  throw new Failure("the server did not answer /healthz within 30 s");
}

async function killServer(signal = "SIGKILL") {
  if (!server || server.exited) return;
  const s = server;
  const gone = new Promise((resolve) => s.child.once("exit", resolve));
  s.child.kill(signal);
  await gone;
}

process.on("exit", () => {
  if (server && !server.exited) server.child.kill("SIGKILL");
});

// ---------------------------------------------------------------- GraphQL

const tokens = new Map();
function token(role, tenant, sub) {
  const key = `${role} ${tenant} ${sub}`;
  if (!tokens.has(key)) {
    const t = execFileSync(BINARY, ["token", "--dev", "--role", role, "--tenant", tenant, "--sub", sub], {
      encoding: "utf8",
    }).trim();
    tokens.set(key, t);
  }
  return tokens.get(key);
}
const ADMIN = () => token("PROGRAM_ADMIN", PROGRAMME, "admin@programme.example");
const CONTOSO_ADMIN = () => token("PARTNER_ADMIN", CONTOSO, "admin@contosocloud.com");
const FABRIKAM_ADMIN = () => token("PARTNER_ADMIN", FABRIKAM, "admin@fabrikamit.com");

async function gql(tok, query, variables = {}) {
  const r = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${tok}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Failure(`GraphQL answered ${r.status}: ${text.slice(0, 300)}`);
  }
  if (json.errors?.length) throw new Failure(`GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
  // A mutation's refusals: every payload has userErrors.
  for (const [field, payload] of Object.entries(json.data ?? {})) {
    if (payload?.userErrors?.length) {
      throw new Failure(`${field} refused: ${JSON.stringify(payload.userErrors)}`);
    }
  }
  return json.data;
}

let allEventTypes = null;
async function eventTypes() {
  if (!allEventTypes) {
    const d = await gql(ADMIN(), `{ __type(name: "EventType") { enumValues { name } } }`);
    allEventTypes = d.__type.enumValues.map((v) => v.name);
  }
  return allEventTypes;
}

async function createSubscription(tok, url, types, description) {
  const d = await gql(
    tok,
    `mutation($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) {
       webhookSubscription { id version } secret userErrors { code message } } }`,
    { i: { url, eventTypes: types, description } },
  );
  const p = d.createWebhookSubscription;
  check(p.webhookSubscription && p.secret?.startsWith("whsec_"), `createWebhookSubscription: ${JSON.stringify(p)}`);
  return { id: p.webhookSubscription.id, secret: p.secret, token: tok };
}

async function deleteSubscription(sub) {
  const d = await gql(sub.token, `query($id: ID!) { webhookSubscription(id: $id) { version } }`, { id: sub.id });
  if (!d.webhookSubscription) return;
  await gql(
    sub.token,
    `mutation($i: DeleteWebhookSubscriptionInput!) { deleteWebhookSubscription(input: $i) { deletedWebhookSubscriptionId userErrors { code message } } }`,
    { i: { id: sub.id, version: d.webhookSubscription.version } },
  );
}

async function deliveries(sub) {
  const out = [];
  let after = null;
  for (;;) {
    const d = await gql(
      sub.token,
      `query($s: ID!, $after: String) { webhookDeliveries(subscriptionId: $s, first: 20, after: $after) {
         pageInfo { hasNextPage endCursor }
         nodes { id eventType status attempts event { id }
                 attemptLog { attempt statusCode error durationMs } } } }`,
      { s: sub.id, after },
    );
    out.push(...d.webhookDeliveries.nodes);
    if (!d.webhookDeliveries.pageInfo.hasNextPage) return out;
    after = d.webhookDeliveries.pageInfo.endCursor;
  }
}

// The feed as `tok` sees it after `after`: [events, endCursor].
async function feed(tok, after, types) {
  const out = [];
  for (;;) {
    const d = await gql(
      tok,
      `query($after: String, $types: [EventType!]) { events(after: $after, first: 100, types: $types) {
         pageInfo { hasNextPage endCursor } nodes { id type objectId } } }`,
      { after, types },
    );
    out.push(...d.events.nodes);
    if (d.events.pageInfo.endCursor) after = d.events.pageInfo.endCursor;
    if (!d.events.pageInfo.hasNextPage) return [out, after];
  }
}
const feedHead = async (tok) => (await feed(tok, null))[1];

let customerCount = 0;
async function createCustomer(tok, label) {
  const n = ++customerCount;
  const d = await gql(
    tok,
    `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { customer { id } userErrors { code message field } } }`,
    {
      i: {
        tenantId: randomUUID(),
        domain: `${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${n}-${Date.now()}.example.com`,
        companyName: `${label} ${n}`,
        country: "US",
        segment: "SMB",
        organizationKind: "COMMERCIAL",
      },
    },
  );
  return d.createCustomer.customer.id;
}

const UPDATE_CUSTOMER = `mutation($i: UpdateCustomerInput!) { updateCustomer(input: $i) { customer { id } userErrors { code message } } }`;
async function updateCustomer(tok, id, companyName) {
  await gql(tok, UPDATE_CUSTOMER, { i: { id, companyName } });
}

// ---------------------------------------------------------------- receivers

// A loopback endpoint. Each request's raw body is verified against the
// subscription's secret with standardwebhooks; `behaviour(msgId, attempt)`
// says how to answer: a status, { hold: ms, status }, or "hang".
class Receiver {
  constructor(name, behaviour = () => 204) {
    this.name = name;
    this.behaviour = behaviour;
    this.secret = null;
    this.requests = []; // every request, in order of arrival
    this.attempts = new Map(); // webhook-id -> requests seen
    this.open = new Set(); // requests not answered
    this.waiters = [];
    this.http = createServer((req, res) => this.#handle(req, res));
    this.http.keepAliveTimeout = 30_000;
  }

  async listen(port = 0) {
    await new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(port, "127.0.0.1", resolve);
    });
    this.port = this.http.address().port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/hooks/${this.name}`;
  }

  async close() {
    for (const res of this.open) res.destroy();
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
  }

  #handle(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const at = performance.now();
      const raw = Buffer.concat(chunks).toString("utf8");
      const msgId = req.headers["webhook-id"];
      const attempt = (this.attempts.get(msgId) ?? 0) + 1;
      this.attempts.set(msgId, attempt);
      // took: answered 2xx at once (a held or hung request is not taken).
      const r = { at, msgId, attempt, headers: { ...req.headers }, raw, verified: false, error: null, envelope: null, took: false };
      try {
        check(this.secret, "a request before the secret was known");
        r.envelope = new Webhook(this.secret).verify(raw, req.headers);
        r.verified = true;
      } catch (e) {
        r.error = `${e.name}: ${e.message}`;
        try {
          r.envelope = JSON.parse(raw);
        } catch {}
      }
      const answer = r.verified ? this.behaviour(msgId, attempt) : 400;
      r.took = typeof answer === "number" && answer >= 200 && answer < 300;
      this.requests.push(r);
      this.#wake();
      if (answer === "hang") {
        this.open.add(res);
        res.on("close", () => this.open.delete(res));
        return;
      }
      if (typeof answer === "object") {
        this.open.add(res);
        res.on("close", () => this.open.delete(res));
        setTimeout(() => {
          if (!res.destroyed) res.writeHead(answer.status).end();
        }, answer.hold);
        return;
      }
      res.writeHead(answer).end();
    });
  }

  #wake() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  // Waits until `predicate()` holds (checked on each request and every 100 ms);
  // fails at once when a body does not verify.
  async until(predicate, timeoutMs, what) {
    const unverified = () => {
      const bad = this.requests.find((r) => !r.verified);
      return bad && new Failure(`${this.name}: a delivery did not verify (webhook-id ${bad.msgId}: ${bad.error}); headers ` +
        `${JSON.stringify({ id: bad.headers["webhook-id"], timestamp: bad.headers["webhook-timestamp"], signature: bad.headers["webhook-signature"] })}, ` +
        `body ${bad.raw.slice(0, 200)}`);
    };
    if (unverified()) throw unverified();
    if (predicate()) return;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Failure(`${this.name}: ${what} did not happen within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const done = () => {
        const failure = unverified();
        if (!failure && !predicate()) return false;
        clearTimeout(timer);
        clearInterval(poll);
        failure ? reject(failure) : resolve();
        return true;
      };
      const poll = setInterval(() => done() && (this.waiters = this.waiters.filter((w) => w !== done)), 100);
      this.waiters.push(done);
    });
  }

  // The events the endpoint took: verified, answered 2xx.
  eventIds() {
    return new Set(this.requests.filter((r) => r.verified && r.took).map((r) => r.envelope.id));
  }

  // Problems with what arrived: a body that does not verify, an envelope
  // without its fields, one event under two webhook-ids or the reverse.
  problems() {
    const out = [];
    const idsOfEvent = new Map();
    const eventOfId = new Map();
    for (const r of this.requests) {
      if (!r.verified) {
        out.push(`a body did not verify (webhook-id ${r.msgId}, ${r.error}): ${r.raw.slice(0, 200)}`);
        continue;
      }
      const e = r.envelope;
      for (const f of ["id", "type", "schemaVersion", "timestamp", "actorRole", "objectId", "data"]) {
        if (e?.[f] === undefined) out.push(`envelope ${r.msgId} has no ${f}: ${r.raw.slice(0, 200)}`);
      }
      if (!/^msg_/.test(r.msgId)) out.push(`webhook-id ${r.msgId} is not msg_…`);
      if (!/^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$/.test(r.headers["webhook-signature"] ?? "")) {
        out.push(`webhook-signature of ${r.msgId} is ${r.headers["webhook-signature"]}`);
      }
      const ts = Number(r.headers["webhook-timestamp"]);
      if (!(Math.abs(ts - Date.now() / 1000) < 60)) out.push(`webhook-timestamp of ${r.msgId} is ${ts}`);
      (idsOfEvent.get(e.id) ?? idsOfEvent.set(e.id, new Set()).get(e.id)).add(r.msgId);
      (eventOfId.get(r.msgId) ?? eventOfId.set(r.msgId, new Set()).get(r.msgId)).add(e.id);
    }
    for (const [evt, ids] of idsOfEvent) if (ids.size > 1) out.push(`event ${evt} came under ${[...ids].join(", ")}`);
    for (const [id, evts] of eventOfId) if (evts.size > 1) out.push(`webhook-id ${id} carried ${[...evts].join(", ")}`);
    return out;
  }

  duplicates() {
    const verified = this.requests.filter((r) => r.verified);
    return verified.length - new Set(verified.map((r) => r.envelope.id)).size;
  }
}

// ---------------------------------------------------------------- scenarios

const results = [];
const cleanup = []; // subscriptions and receivers to drop after a scenario

async function scenario(name, body) {
  const began = performance.now();
  try {
    if (!server || server.exited) await startServer();
    const figures = await body();
    const line = `PASS ${name}: ${figures} (${((performance.now() - began) / 1000).toFixed(1)} s)`;
    results.push({ name, ok: true, line });
    log(line);
  } catch (e) {
    const line = `FAIL ${name}: ${e instanceof Failure ? e.message : e.stack}`;
    results.push({ name, ok: false, line });
    log(line);
  } finally {
    for (const c of cleanup.splice(0)) {
      try {
        if (c instanceof Receiver) await c.close();
        else if (server && !server.exited) await deleteSubscription(c);
      } catch (e) {
        log(`cleanup of ${c.name ?? c.id} failed: ${e.message}`);
      }
    }
  }
}

async function pollDeliveries(sub, predicate, timeoutMs, what) {
  const until = performance.now() + timeoutMs;
  let last = [];
  while (performance.now() < until) {
    last = await deliveries(sub);
    if (predicate(last)) return last;
    await sleep(100);
  }
  throw new Failure(`${what} within ${timeoutMs / 1000} s; webhookDeliveries: ${JSON.stringify(last).slice(0, 600)}`);
}

function missingFrom(receiver, ids) {
  const got = receiver.eventIds();
  return ids.filter((id) => !got.has(id));
}

// a. Every body verifies; every event arrives; a partner gets only its own.
async function verified() {
  const types = await eventTypes();
  const programme = await new Receiver("programme").listen();
  const partner = await new Receiver("partner").listen();
  cleanup.push(programme, partner);
  const programmeHead = await feedHead(ADMIN());
  const pSub = await createSubscription(ADMIN(), programme.url, types, "faults: programme");
  programme.secret = pSub.secret;
  const partnerHead = await feedHead(CONTOSO_ADMIN());
  const cSub = await createSubscription(CONTOSO_ADMIN(), partner.url, types, "faults: Contoso");
  partner.secret = cSub.secret;
  cleanup.push(cSub, pSub);

  // 20 mutations: 8 customers and 8 updates of Contoso's, 4 customers of Fabrikam's.
  let mutations = 0;
  const contoso = [];
  for (let i = 0; i < 8; i++, mutations++) contoso.push(await createCustomer(CONTOSO_ADMIN(), "Contoso Hooks"));
  for (let i = 0; i < 8; i++, mutations++) await updateCustomer(CONTOSO_ADMIN(), contoso[i], `Contoso Hooks renamed ${i}`);
  const fabrikam = [];
  for (let i = 0; i < 4; i++, mutations++) fabrikam.push(await createCustomer(FABRIKAM_ADMIN(), "Fabrikam Hooks"));

  const [programmeEvents] = await feed(ADMIN(), programmeHead);
  const [partnerEvents] = await feed(CONTOSO_ADMIN(), partnerHead);
  const fabrikamEvents = programmeEvents.filter((e) => fabrikam.includes(e.objectId));
  check(fabrikamEvents.length === 4, `the programme feed has ${fabrikamEvents.length} events of Fabrikam's 4 new customers`);
  check(
    partnerEvents.every((e) => !fabrikam.includes(e.objectId)),
    "Contoso's feed has events of Fabrikam's customers",
  );
  check(
    contoso.every((id) => partnerEvents.filter((e) => e.objectId === id).length === 2),
    "Contoso's feed does not have a CUSTOMER_CREATED and a CUSTOMER_UPDATED for each of its new customers",
  );
  const want = (events) => events.map((e) => e.id);
  await programme.until(() => missingFrom(programme, want(programmeEvents)).length === 0, 20_000,
    `arrival of the programme's ${programmeEvents.length} events`)
    .catch((e) => {
      throw new Failure(`${e.message}; missing ${missingFrom(programme, want(programmeEvents)).join(", ")}`);
    });
  await partner.until(() => missingFrom(partner, want(partnerEvents)).length === 0, 20_000,
    `arrival of Contoso's ${partnerEvents.length} events`)
    .catch((e) => {
      throw new Failure(`${e.message}; missing ${missingFrom(partner, want(partnerEvents)).join(", ")}`);
    });
  await sleep(500); // anything more (it must not come) has time to arrive
  const problems = [...programme.problems(), ...partner.problems()];
  check(problems.length === 0, problems.join("; "));
  const partnerSees = new Set(want(partnerEvents));
  const extra = [...partner.eventIds()].filter((id) => !partnerSees.has(id));
  const extraEnvelopes = partner.requests.filter((r) => extra.includes(r.envelope?.id)).map((r) => r.raw.slice(0, 160));
  check(extra.length === 0, `Contoso's receiver got ${extra.length} events not in its feed: ${extraEnvelopes.join(" | ")}`);
  const leaked = partner.requests.filter((r) => fabrikam.includes(r.envelope?.objectId));
  check(leaked.length === 0, `Contoso's receiver got ${leaked.length} events of Fabrikam's customers`);
  const programmeFabrikam = programme.requests.filter((r) => fabrikam.includes(r.envelope?.objectId));
  check(programmeFabrikam.length >= 4, `the programme receiver got ${programmeFabrikam.length} events of Fabrikam's customers`);
  const total = programme.requests.length + partner.requests.length;
  return (
    `${mutations} mutations; programme ${programme.eventIds().size}/${programmeEvents.length} events, ` +
    `Contoso ${partner.eventIds().size}/${partnerEvents.length} (Fabrikam's: ${leaked.length} to Contoso, ` +
    `${programmeFabrikam.length} to the programme); ${total} bodies verified, ` +
    `${programme.duplicates() + partner.duplicates()} duplicates`
  );
}

// b. Nothing listening at first: the retry arrives once something does.
async function down() {
  const port = await freePort();
  const receiver = new Receiver("down");
  const sub = await createSubscription(ADMIN(), `http://127.0.0.1:${port}/hooks/down`, ["CUSTOMER_CREATED"], "faults: down");
  receiver.secret = sub.secret;
  cleanup.push(sub);
  const customer = await createCustomer(CONTOSO_ADMIN(), "Down Hooks");
  const t0 = performance.now();
  const failed = await pollDeliveries(sub, (ds) => ds.length === 1 && ds[0].attempts >= 1, 15_000,
    "no failed first attempt");
  const tFailed = performance.now();
  const firstError = failed[0].attemptLog[0]?.error;
  check(failed[0].status === "PENDING", `after a refused connection the delivery is ${failed[0].status}`);
  await receiver.listen(port);
  cleanup.push(receiver);
  await receiver.until(() => receiver.requests.some((r) => r.envelope?.objectId === customer), 20_000,
    "the delivery after the endpoint came up");
  const tArrived = performance.now();
  const problems = receiver.problems();
  check(problems.length === 0, problems.join("; "));
  check(receiver.requests[0].msgId === failed[0].id, `webhook-id ${receiver.requests[0].msgId}, delivery ${failed[0].id}`);
  const done = await pollDeliveries(sub, (ds) => ds[0]?.status === "SUCCEEDED", 5_000, "the delivery not SUCCEEDED");
  return (
    `first attempt failed ${fmt(tFailed - t0)} after the commit ("${firstError}"); ` +
    `arrived ${fmt(tArrived - tFailed)} after the receiver started, verified; ` +
    `status ${done[0].status}, ${done[0].attempts} attempts`
  );
}

// c. Two 500s for each message, then 204.
async function fiveHundred() {
  const receiver = await new Receiver("500", (_, attempt) => (attempt <= 2 ? 500 : 204)).listen();
  cleanup.push(receiver);
  const sub = await createSubscription(ADMIN(), receiver.url, ["CUSTOMER_CREATED"], "faults: 500");
  receiver.secret = sub.secret;
  cleanup.push(sub);
  const t0 = performance.now();
  const customers = [await createCustomer(CONTOSO_ADMIN(), "Flaky Hooks"), await createCustomer(CONTOSO_ADMIN(), "Flaky Hooks")];
  const arrived = () => customers.every((c) => receiver.requests.some((r) => r.envelope?.objectId === c && r.attempt >= 3));
  await receiver.until(arrived, 25_000, "the third attempt of each message");
  const took = performance.now() - t0;
  const problems = receiver.problems();
  check(problems.length === 0, problems.join("; "));
  const ds = await pollDeliveries(sub, (ds) => ds.length === 2 && ds.every((d) => d.status === "SUCCEEDED"), 5_000,
    "the deliveries not both SUCCEEDED");
  check(ds.every((d) => d.attempts >= 3), `attempts ${ds.map((d) => d.attempts)}`);
  const codes = ds.map((d) => d.attemptLog.map((a) => a.statusCode).join("/"));
  check(codes.every((c) => c === "500/500/204"), `attempt status codes ${codes.join(", ")}`);
  return (
    `${customers.length} messages, ${receiver.requests.length} requests (${codes.join(", ")}); ` +
    `attempts ${ds.map((d) => d.attempts).join(", ")}, all SUCCEEDED; last arrived ${fmt(took)} after the commits`
  );
}

// d. The first attempt held past the 2 s timeout; the retry arrives.
async function timeout() {
  const receiver = await new Receiver("timeout", (_, attempt) => (attempt === 1 ? { hold: 4_000, status: 200 } : 200)).listen();
  cleanup.push(receiver);
  const sub = await createSubscription(ADMIN(), receiver.url, ["CUSTOMER_CREATED"], "faults: timeout");
  receiver.secret = sub.secret;
  cleanup.push(sub);
  const t0 = performance.now();
  const customer = await createCustomer(CONTOSO_ADMIN(), "Slow Hooks");
  await receiver.until(() => receiver.requests.some((r) => r.envelope?.objectId === customer && r.attempt >= 2), 20_000,
    "the attempt after the timeout");
  const took = performance.now() - t0;
  const problems = receiver.problems();
  check(problems.length === 0, problems.join("; "));
  const [first, second] = receiver.requests;
  check(first.msgId === second.msgId, `webhook-id ${first.msgId} first, ${second.msgId} next`);
  const ds = await pollDeliveries(sub, (ds) => ds[0]?.status === "SUCCEEDED", 5_000, "the delivery not SUCCEEDED");
  const [a1] = ds[0].attemptLog;
  check(ds[0].attempts >= 2 && a1.statusCode === null, `attempt log ${JSON.stringify(ds[0].attemptLog)}`);
  return (
    `same webhook-id on both attempts (${first.msgId}); attempt 1 gave up after ${a1.durationMs} ms ("${a1.error}"), ` +
    `attempt 2 ${fmt(second.at - first.at)} after the first; arrived ${fmt(took)} after the commit; ` +
    `${ds[0].attempts} attempts, ${ds[0].status}`
  );
}

// e. SIGKILL with attempts in flight: after a restart each arrives again.
async function sigkill() {
  let answering = false;
  const receiver = await new Receiver("sigkill", () => (answering ? 200 : "hang")).listen();
  cleanup.push(receiver);
  const head = await feedHead(ADMIN());
  const types = ["CUSTOMER_CREATED", "RELATIONSHIP_CREATED"];
  const sub = await createSubscription(ADMIN(), receiver.url, types, "faults: sigkill");
  receiver.secret = sub.secret;
  cleanup.push(sub);
  for (let i = 0; i < 3; i++) await createCustomer(CONTOSO_ADMIN(), "Killed Hooks");
  await receiver.until(() => receiver.open.size >= 1, 10_000, "a first attempt in flight");
  // One more, committed just before the kill: it may not even be claimed yet.
  await createCustomer(CONTOSO_ADMIN(), "Killed Hooks");
  const inFlight = receiver.open.size;
  await killServer("SIGKILL");
  const tKilled = performance.now();
  answering = true;
  // Every request so far hangs, unanswered: the events the dead server was sending.
  const hung = receiver.requests.length;
  const before = new Map(receiver.requests.map((r) => [r.envelope.id, r.msgId]));
  check(receiver.requests.every((r) => !r.took), "a request was answered before the kill");
  await startServer();
  const tRestarted = performance.now();
  const [events] = await feed(ADMIN(), head, types);
  check(events.length === 8, `the feed has ${events.length} events of the 4 customers, not 8`);
  const want = events.map((e) => e.id);
  await receiver
    .until(() => missingFrom(receiver, want).length === 0, 30_000, "every event after the restart")
    .catch((e) => {
      throw new Failure(`${e.message}; missing ${missingFrom(receiver, want).join(", ")}`);
    });
  const tAll = performance.now();
  const problems = receiver.problems();
  check(problems.length === 0, problems.join("; "));
  const taken = receiver.requests.filter((r) => r.took);
  for (const r of taken) {
    if (before.has(r.envelope.id)) check(before.get(r.envelope.id) === r.msgId, `event ${r.envelope.id}: ${before.get(r.envelope.id)} before, ${r.msgId} after`);
  }
  const again = taken.filter((r) => before.has(r.envelope.id));
  const ds = await pollDeliveries(sub, (ds) => ds.length === 8 && ds.every((d) => d.status === "SUCCEEDED"), 5_000,
    "the 8 deliveries not all SUCCEEDED");
  const after = (rs) => rs.map((r) => fmt(r.at - tRestarted)).join(", ") || "none";
  const fresh = taken.filter((r) => !before.has(r.envelope.id));
  return (
    `${inFlight} attempts in flight at the kill (${hung} requests, ${before.size} of 8 events, sent by then); after the restart ` +
    `${again.length} sent again with the same webhook-id (at ${after(again)}), ` +
    `${want.length - before.size} sent for the first time (at ${after(fresh)}); ` +
    `all 8 arrived ${fmt(tAll - tRestarted)} after the restart (${fmt(tAll - tKilled)} after the kill); ` +
    `attempts recorded ${ds.map((d) => d.attempts).join(",")}`
  );
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

// f. RATE updates a second for DURATION seconds: commit to receipt.
async function latency() {
  const receiver = await new Receiver("latency", () => 204).listen();
  cleanup.push(receiver);
  const customers = [];
  const CUSTOMERS = 20;
  for (let i = 0; i < CUSTOMERS; i++) customers.push(await createCustomer(CONTOSO_ADMIN(), "Latency Hooks"));
  const head = await feedHead(ADMIN());
  const sub = await createSubscription(ADMIN(), receiver.url, ["CUSTOMER_UPDATED"], "faults: latency");
  receiver.secret = sub.secret;
  cleanup.push(sub);

  // Updates of one customer are made one after another, so that the k-th
  // CUSTOMER_UPDATED of a customer in the feed is its k-th update here.
  const total = Math.round(RATE * DURATION);
  const interval = 1000 / RATE;
  const answered = customers.map(() => []); // per customer: answer times, in order
  const chains = customers.map(() => Promise.resolve());
  const errors = [];
  let late = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const c = i % CUSTOMERS;
    chains[c] = chains[c].then(async () => {
      if (performance.now() - due > interval) late++;
      try {
        await updateCustomer(CONTOSO_ADMIN(), customers[c], `Latency Hooks ${c} #${i}`);
        answered[c].push(performance.now());
      } catch (e) {
        errors.push(e.message);
      }
    });
  }
  const tIssued = performance.now();
  await Promise.all(chains);
  const tAnswered = performance.now();
  check(errors.length === 0, `${errors.length} updates failed: ${errors.slice(0, 3).join("; ")}`);
  const drivenRate = total / ((tAnswered - t0) / 1000);

  const wanted = () => receiver.eventIds().size >= total;
  await receiver.until(wanted, 60_000, `the ${total} deliveries`).catch((e) => {
    throw new Failure(`${e.message}; ${receiver.eventIds().size} arrived`);
  });
  const [events] = await feed(ADMIN(), head, ["CUSTOMER_UPDATED"]);
  check(events.length === total, `the feed has ${events.length} CUSTOMER_UPDATED events, ${total} updates were made`);
  const firstArrival = new Map();
  for (const r of receiver.requests) if (r.verified && !firstArrival.has(r.envelope.id)) firstArrival.set(r.envelope.id, r.at);
  const seen = customers.map(() => 0);
  const latencies = [];
  for (const e of events) {
    const c = customers.indexOf(e.objectId);
    check(c >= 0, `a CUSTOMER_UPDATED event of another customer (${e.objectId})`);
    const at = firstArrival.get(e.id);
    check(at !== undefined, `event ${e.id} did not arrive`);
    latencies.push(at - answered[c][seen[c]++]);
  }
  const problems = receiver.problems();
  check(problems.length === 0, problems.slice(0, 5).join("; "));
  latencies.sort((a, b) => a - b);
  const [p50, p99, max, min] = [percentile(latencies, 50), percentile(latencies, 99), latencies.at(-1), latencies[0]];
  const line =
    `${total} updates over ${((tIssued - t0) / 1000).toFixed(1)} s (target ${RATE}/s for ${DURATION} s, driven ` +
    `${drivenRate.toFixed(1)}/s to the last answer, ${late} started over ${fmt(interval)} late); ` +
    `commit→receipt p50 ${fmt(p50)}, p99 ${fmt(p99)}, max ${fmt(max)} (min ${min.toFixed(1)} ms); ` +
    `${receiver.duplicates()} duplicates`;
  check(p99 < P99_LIMIT_MS, `p99 ${fmt(p99)} ≥ ${P99_LIMIT_MS} ms: ${line}`);
  return line;
}

// ---------------------------------------------------------------- main

const began = performance.now();
try {
  await startServer();
  if (!LATENCY_ONLY) {
    await scenario("verified", verified);
    await scenario("down", down);
    await scenario("500", fiveHundred);
    await scenario("timeout", timeout);
    await scenario("sigkill", sigkill);
  }
  await scenario("latency", latency);
} catch (e) {
  results.push({ name: "setup", ok: false, line: `FAIL setup: ${e instanceof Failure ? e.message : e.stack}` });
}
await killServer("SIGTERM");
const failed = results.filter((r) => !r.ok);
console.log(`\nwebhooks: summary (${((performance.now() - began) / 1000).toFixed(1)} s)`);
for (const r of results) console.log(`  ${r.line}`);
console.log(failed.length ? `webhooks: ${failed.length} of ${results.length} failed` : `webhooks: all ${results.length} passed`);
process.exit(failed.length ? 1 : 0);
