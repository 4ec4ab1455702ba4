// Development server for the admin UI: serves admin-ui/ from disk (so edits show without
// rebuilding the Rust binary) and proxies the API (HTTP and WebSocket) to a running server.
//
//   API_URL=http://127.0.0.1:8080 PORT=8090 node tests/ui/dev-server.mjs
//
// No dependencies; Node 18+.

import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(process.env.UI_DIR || path.join(here, '..', '..', 'admin-ui'));
const API = new URL(process.env.API_URL || 'http://127.0.0.1:8080');
const PORT = Number(process.env.PORT || 8090);
const HOST = process.env.HOST || '127.0.0.1';
const PROXIED = [/^\/graphql(\/|$|\?)/, /^\/oauth\//, /^\/sandbox\//, /^\/webhooks\//, /^\/api\//, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png',
};

function proxy(req, res) {
  const upstream = http.request({
    host: API.hostname, port: API.port || 80, method: req.method, path: req.url,
    headers: { ...req.headers, host: API.host },
  }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy error: ${e.message}`);
  });
  req.pipe(upstream);
}

function serveStatic(req, res) {
  const url = new URL(req.url, 'http://x');
  let rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
  if (!path.extname(rel)) rel = 'index.html'; // client-side routes get the shell, like the server
  const file = path.resolve(ROOT, rel);
  if (!file.startsWith(ROOT + path.sep) && file !== ROOT) {
    res.writeHead(403).end();
    return;
  }
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  });
}

const server = http.createServer((req, res) => {
  if (PROXIED.some((re) => re.test(req.url))) proxy(req, res);
  else serveStatic(req, res);
});

// WebSocket: replay the upgrade request to the API and splice the sockets.
server.on('upgrade', (req, socket, head) => {
  const upstream = net.connect(Number(API.port || 80), API.hostname, () => {
    const headers = Object.entries({ ...req.headers, host: API.host }).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
    if (head && head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => { upstream.destroy(); socket.destroy(); };
  upstream.on('error', close);
  socket.on('error', close);
});

server.listen(PORT, HOST, () => {
  console.log(`admin UI from ${ROOT} at http://${HOST}:${PORT}, API ${API.origin}`);
});
