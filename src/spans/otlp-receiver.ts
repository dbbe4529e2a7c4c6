// The agent's OTLP/HTTP trace receiver: POST /v1/traces with
// application/json or application/x-protobuf bodies, optionally gzip-encoded.
// It replies in the request's content type as the OTLP/HTTP specification
// asks (an ExportTraceServiceResponse, or a google.rpc.Status on error),
// rejects malformed bodies with 400 and oversized ones with 413, and never
// lets one bad request stop it. Decoded spans go to the onSpans callback; the
// agent buffers them into the next store segment.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { Span } from './model.js';
import { decodeOtlpTraces, encodeExportResponse, encodeRpcStatus, WireError } from './otlp-proto.js';
import { decodeOtlpJsonText } from './otlp-json.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export interface ReceiverOptions {
  host: string;
  port: number;
  /** Largest accepted body, before and after decompression (default 16 MiB). */
  maxBodyBytes?: number;
  onSpans: (spans: Span[]) => void;
}

export interface ReceiverStats {
  requests: number;
  spans: number;
  rejectedSpans: number;
  badRequests: number;
  tooLarge: number;
}

export interface Receiver {
  address: string;
  stats(): ReceiverStats;
  close(): Promise<void>;
}

/** Parses '127.0.0.1:4318', ':4318', '4318' or '[::1]:4318'. */
export function parseListenAddress(text: string | true | undefined): { host: string; port: number } {
  if (text === undefined || text === true || text === '') return { host: '127.0.0.1', port: 4318 };
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text);
  if (!m) throw new Error(`cannot read '${text}' as host:port`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `body of ${declared} bytes is over the limit of ${limit}`));
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, `body is over the limit of ${limit} bytes`));
        return;
      }
      parts.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(parts));
    });
    req.on('error', (e) => {
      if (!failed) reject(new HttpError(400, `reading the body failed: ${e.message}`));
    });
  });
}

async function decompress(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').toLowerCase();
  try {
    if (enc === 'gzip') return await gunzipAsync(body, { maxOutputLength: limit });
    if (enc === 'deflate') return await inflateAsync(body, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(413, 'decompressed body is too large');
    throw new HttpError(400, `cannot decompress ${enc} body: ${(e as Error).message}`);
  }
  if (enc !== 'identity') throw new HttpError(415, `unsupported content-encoding '${enc}'`);
  return body;
}

export async function startOtlpReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const limit = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const stats: ReceiverStats = { requests: 0, spans: 0, rejectedSpans: 0, badRequests: 0, tooLarge: 0 };

  const reply = (res: ServerResponse, proto: boolean, status: number, rejected: number, message: string) => {
    if (res.headersSent) return;
    let body: Uint8Array | string;
    if (status === 200) {
      body = proto
        ? encodeExportResponse(rejected, message)
        : JSON.stringify(rejected ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {});
    } else {
      // google.rpc.Status; code 3 is INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED.
      const code = status === 413 ? 8 : 3;
      body = proto ? encodeRpcStatus(code, message) : JSON.stringify({ code, message });
    }
    res.writeHead(status, { 'content-type': proto ? 'application/x-protobuf' : 'application/json', connection: status === 413 ? 'close' : 'keep-alive' });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const proto = ctype === 'application/x-protobuf' || ctype === 'application/protobuf';
    const url = (req.url ?? '').split('?')[0];
    if (url !== '/v1/traces') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('profctl receives OTLP traces at POST /v1/traces\n');
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
      res.end('use POST\n');
      req.resume();
      return;
    }
    stats.requests++;
    try {
      if (!proto && ctype !== 'application/json') throw new HttpError(415, `unsupported content-type '${ctype}': send application/json or application/x-protobuf`);
      const raw = await readBody(req, limit);
      const body = await decompress(raw, req.headers['content-encoding'] as string | undefined, limit);
      let decoded: { spans: Span[]; rejected: number };
      try {
        decoded = proto ? decodeOtlpTraces(body) : decodeOtlpJsonText(body.toString('utf8'));
      } catch (e) {
        throw new HttpError(400, `malformed ${proto ? 'protobuf' : 'JSON'} body: ${(e as Error).message}`);
      }
      stats.spans += decoded.spans.length;
      stats.rejectedSpans += decoded.rejected;
      if (decoded.spans.length) opts.onSpans(decoded.spans);
      reply(res, proto, 200, decoded.rejected, decoded.rejected ? `${decoded.rejected} spans had invalid trace or span ids` : '');
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof WireError ? 400 : 500;
      if (status === 413) stats.tooLarge++;
      else stats.badRequests++;
      reply(res, proto, status, 0, (e as Error).message);
      if (status === 413) req.destroy();
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e) => reply(res, false, 500, 0, String(e)));
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    address: `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
