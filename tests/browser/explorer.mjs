// The explorer in Debian's Chromium, headless (run by scripts/browser-test.sh):
//
//   node explorer.mjs http://127.0.0.1:PORT TOKEN path/to/screenshot.png
//
// Fails (exit 1, saying what) if the page asks another origin for anything,
// breaks its Content-Security-Policy, does not start GraphiQL, if the
// documentation pane does not list the schema's root fields, or if a query
// run with TOKEN pasted into the Headers pane does not show the partner.
import { chromium } from "playwright-core";

const [base, token, screenshot] = process.argv.slice(2);
if (!base || !token || !screenshot) {
  console.error("usage: node explorer.mjs BASE_URL TOKEN SCREENSHOT.png");
  process.exit(2);
}
const origin = new URL(base).origin;
const TIMEOUT = 30_000;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // Without the background-networking flags Chromium reaches for Google's
  // services at start, which a machine without internet access never answers.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const requests = [];
const foreign = [];
const problems = [];

async function run() {
  // A fresh profile for each run (playwright's context is one).
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("request", (request) => {
    const url = request.url();
    requests.push(url);
    if (!url.startsWith("data:") && !url.startsWith("blob:") && new URL(url).origin !== origin) {
      foreign.push(url);
    }
  });
  page.on("console", (message) => {
    const text = message.text();
    if (text.includes("Content Security Policy") || text.includes("Content-Security-Policy")) {
      problems.push(`the page broke its policy: ${text}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`a script failed: ${error.message}`));

  const response = await page.goto(`${base}/graphql`, { waitUntil: "load" });
  if (!response || response.status() !== 200) {
    throw new Error(`GET /graphql answered ${response && response.status()}`);
  }
  try {
    await page.locator(".graphiql-container").waitFor({ state: "visible" });
  } catch {
    const status = await page.locator("#status").textContent().catch(() => null);
    throw new Error(`GraphiQL did not start; the page says: ${status}`);
  }

  // The documentation pane: the root types, then the query type's fields.
  await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByText("Query", { exact: true }).first().click();
  for (const field of ["acoRequests", "me", "customers"]) {
    await docs.locator(".graphiql-doc-explorer-field-name", { hasText: new RegExp(`^${field}$`) })
      .first().waitFor({ state: "visible" });
  }
  const fields = await docs.locator(".graphiql-doc-explorer-field-name").allTextContents();
  console.log(`documentation pane: Query lists ${fields.length} fields: ${fields.join(", ")}`);

  // The token pasted into the Headers pane.
  await page.getByRole("button", { name: "Headers" }).click();
  const headersEditor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror");
  await headersEditor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
  const pasted = await headersEditor.evaluate((element) => element.CodeMirror.getValue());
  if (!pasted.includes(token)) {
    throw new Error(`the Headers pane holds ${JSON.stringify(pasted)}, not the token`);
  }

  // A query, run with the button.
  const query = "{ me { subject roles partner { companyName partnerType } } }";
  const queryEditor = page.locator(".graphiql-query-editor .CodeMirror");
  await queryEditor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(query);
  await page.locator("button.graphiql-execute-button").click();
  const result = page.locator(".graphiql-response .CodeMirror");
  await result.getByText("Contoso Cloud Services").first().waitFor({ state: "visible" });
  const answer = JSON.parse(await result.evaluate((element) => element.CodeMirror.getValue()));
  if (answer.errors || !answer.data.me.roles.includes("PARTNER_ADMIN")) {
    throw new Error(`the query answered ${JSON.stringify(answer)}`);
  }
  console.log(`query ran: ${JSON.stringify(answer.data.me.partner)} as ${answer.data.me.roles}`);

  // A dialog (GraphiQL's settings) opens and closes under the page's policy.
  await page.getByRole("button", { name: "Open settings dialog" }).click();
  await page.getByRole("dialog").waitFor({ state: "visible" });
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "hidden" });

  await page.screenshot({ path: screenshot });
  console.log(`screenshot: ${screenshot}`);

  // A script that does not arrive: the page says which, instead of "Loading…".
  const broken = await context.newPage();
  broken.setDefaultTimeout(TIMEOUT);
  await broken.route("**/graphiql-3.9.0.min.js", (route) => route.abort());
  await broken.goto(`${base}/graphql`, { waitUntil: "load" });
  const status = broken.locator("#status", { hasText: "could not load" });
  await status.waitFor({ state: "visible" });
  console.log(`with GraphiQL's script blocked the page says: ${await status.textContent()}`);
}

let failure = null;
try {
  await run();
} catch (error) {
  failure = error.message;
} finally {
  await browser.close();
}
console.log(`requests: ${requests.length}, all to ${origin}: ${foreign.length === 0}`);
if (foreign.length > 0) problems.push(`requests to other origins: ${foreign.join(", ")}`);
if (failure) problems.unshift(failure);
if (problems.length > 0) {
  for (const problem of problems) console.error(`explorer browser test: ${problem}`);
  process.exit(1);
}
console.log("explorer browser test: passed");
