import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = { method: string; url: string; headers: http.IncomingHttpHeaders; body: string };

/** A local HTTP server that records requests and responds through a replaceable handler. */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  handler: (request: RecordedRequest, res: http.ServerResponse) => void = (_request, res) => res.writeHead(204).end();

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<RecordingServer> {
    const server = http.createServer();
    const recorder = new RecordingServer(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        recorder.requests.push(request);
        recorder.handler(request, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
