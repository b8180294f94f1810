// One instance's /metrics endpoint, as vLLM's API server exposes it: GET (or HEAD) /metrics
// answers the exposition in the Prometheus text format; any other path is 404, any other method
// 405.

import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export class MetricsServer {
  private readonly server: http.Server;

  constructor(private readonly exposition: () => string) {
    this.server = http.createServer((req, res) => void this.answer(req, res));
  }

  /** Listens on host:port; rejects with the system error (EADDRINUSE, EACCES, …). */
  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not Found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res
        .writeHead(405, { "Content-Type": "text/plain; charset=utf-8", Allow: "GET, HEAD" })
        .end("Method Not Allowed\n");
      return;
    }
    const body = this.exposition();
    res.writeHead(200, {
      "Content-Type": EXPOSITION_CONTENT_TYPE,
      "Content-Length": Buffer.byteLength(body),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }
}
