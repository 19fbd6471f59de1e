import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event as a binary-mode CloudEvent sink receives it. */
export type ReceivedEvent = { type: string; id: string; source: string; data: unknown };

/** A local HTTP sink that records every CloudEvent delivered to it. */
export type DemoSink = { url: string; events: ReceivedEvent[]; close(): Promise<void> };

export async function startDemoSink(): Promise<DemoSink> {
  const events: ReceivedEvent[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      let data: unknown = body;
      try {
        data = JSON.parse(body);
      } catch {
        // Not JSON: keep the text.
      }
      const header = (name: string) => String(req.headers[name] ?? '');
      events.push({ type: header('ce-type'), id: header('ce-id'), source: header('ce-source'), data });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    events,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
