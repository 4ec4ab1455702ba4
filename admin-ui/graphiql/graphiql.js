// GraphiQL at GET /graphql, from the vendored bundles (no CDN). Queries and mutations go
// over HTTP, subscriptions over graphql-transport-ws. The token is the admin UI's session
// when this tab has one, or whatever `Authorization` header is set in GraphiQL's headers
// editor, for HTTP and for the WebSocket's connection_init alike.
(function () {
  'use strict';

  function sessionToken() {
    try {
      var s = JSON.parse(sessionStorage.getItem('pricebook.session') || 'null');
      return s && typeof s.token === 'string' ? s.token : null;
    } catch (e) {
      return null;
    }
  }

  // The headers editor's current text, as GraphiQL stores it.
  function editorAuthorization() {
    try {
      var headers = JSON.parse(localStorage.getItem('graphiql:headers') || '{}');
      for (var name in headers) {
        if (name.toLowerCase() === 'authorization') return headers[name];
      }
    } catch (e) {
      /* not JSON yet: fall through */
    }
    return null;
  }

  function authorization() {
    var fromEditor = editorAuthorization();
    if (fromEditor) return fromEditor;
    var token = sessionToken();
    return token ? 'Bearer ' + token : null;
  }

  var here = new URL('/graphql/ws', location.href);
  here.protocol = here.protocol === 'https:' ? 'wss:' : 'ws:';
  var wsClient = graphqlWs.createClient({
    url: here.toString(),
    lazy: true,
    connectionParams: function () {
      var auth = authorization();
      return auth ? { authorization: auth } : {};
    },
  });
  var fetcher = GraphiQL.createFetcher({ url: '/graphql', wsClient: wsClient });
  var token = sessionToken();
  var defaultHeaders = token
    ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2)
    : JSON.stringify({ Authorization: 'Bearer <token from login(email, password) { token }>' }, null, 2);

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: defaultHeaders,
      headerEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers',
      defaultQuery:
        '# Sign in first (no Authorization header needed for this one):\n' +
        '#   mutation { login(email: "…", password: "…") { token } }\n' +
        '# then put "Authorization": "Bearer <token>" in the headers below.\n\n' +
        '{\n  me { email role }\n  items(first: 5) { totalCount edges { node { code name cost price } } }\n}\n',
    }),
  );
})();
