// The explorer's start: loaded before React and GraphiQL, it notes any of
// the page's files that fails to load, then starts GraphiQL once the page is
// read, or says on the page why it cannot.
"use strict";

(function () {
  var failed = [];

  // A script or style sheet that cannot load fires "error" on its element,
  // which does not bubble: caught on the way down.
  window.addEventListener("error", function (event) {
    var element = event.target;
    if (element && (element.tagName === "SCRIPT" || element.tagName === "LINK")) {
      failed.push(element.src || element.href);
    }
  }, true);

  function say(message) {
    var status = document.getElementById("status");
    if (status) {
      status.textContent = message + " The API itself answers at POST /graphql (for example " +
        "with curl) whatever happens to this page.";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (failed.length > 0) {
      say("The explorer could not load " + failed.join(", ") + " from this server: reload the page.");
      return;
    }
    if (typeof React === "undefined" || typeof ReactDOM === "undefined" ||
        typeof GraphiQL === "undefined") {
      say("The explorer's scripts did not start (a browser extension or policy may block them).");
      return;
    }
    // The page is served at the GraphQL endpoint itself. No header is filled
    // in: a request without one is anonymous (only introspection answers),
    // and the user adds their own token.
    var endpoint = new URL(window.location.pathname, window.location.origin).toString();
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {
        fetcher: GraphiQL.createFetcher({ url: endpoint }),
        defaultEditorToolsVisibility: true,
        defaultQuery:
          "# Add your token in the Headers pane below:\n" +
          "#   {\"Authorization\": \"Bearer <token>\"}\n" +
          "# (`aco-api token --dev --role PARTNER_ADMIN --tenant <tenant id>` mints one in dev mode;\n" +
          "# the server prints one for every role when it starts with --demo.)\n" +
          "{\n  me {\n    subject\n    roles\n  }\n}\n",
      })
    );
  });
})();
