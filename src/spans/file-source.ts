// A SpanSource over an OTLP JSON file (Collector file-exporter lines or one
// object). The file is read and parsed once, on first use; its warnings (bad
// lines, bad spans) go to the onWarning callback, never to stdout.
import { readFile } from 'node:fs/promises';
import { BadInputError } from '../errors.js';
import type { Span, SpanSource } from './model.js';
import { parseOtlpJson } from './otlp-json.js';

export class OtlpFileSpanSource implements SpanSource {
  readonly description: string;
  private loaded?: Promise<Span[]>;

  constructor(
    readonly path: string,
    private readonly onWarning: (message: string) => void = () => {},
  ) {
    this.description = `OTLP JSON file ${path}`;
  }

  private spans(): Promise<Span[]> {
    this.loaded ??= readFile(this.path, 'utf8').then(
      (text) => {
        const result = parseOtlpJson(text, this.path);
        for (const w of result.warnings) this.onWarning(w);
        return result.spans;
      },
      (e: NodeJS.ErrnoException) => {
        throw new BadInputError(this.path, e.code === 'ENOENT' ? 'no such file' : `cannot read: ${e.message}`, 'pass an OTLP JSON file to --spans');
      },
    );
    return this.loaded;
  }

  async spansInRange(fromMs: number, toMs: number, opts: { services?: string[] } = {}): Promise<Span[]> {
    const services = opts.services && opts.services.length > 0 ? new Set(opts.services) : undefined;
    return (await this.spans()).filter((s) => s.endMs >= fromMs && s.startMs <= toMs && (!services || services.has(s.service)));
  }

  async trace(traceId: string): Promise<Span[]> {
    const id = traceId.toLowerCase();
    return (await this.spans()).filter((s) => s.traceId === id);
  }
}
