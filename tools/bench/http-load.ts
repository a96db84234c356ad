import { Agent, request } from 'node:http';

/**
 * A lean keep-alive HTTP client for the load generator. The tests' fetch-based helper costs the
 * client several times the CPU per request, and the benchmark's client shares the machine's cores
 * with the services it measures.
 */
export class LoadClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(
    baseUrl: string,
    private readonly apiKey: string,
    maxSockets = 256,
  ) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** POSTs a JSON body; resolves with the status and the response text. */
  post(path: string, json: unknown): Promise<{ status: number; text: string }> {
    const body = Buffer.from(JSON.stringify(json));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
