import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { ANCHOR_SUITE, REGRESSION_SUITE_FILE, REGRESSION_SUITE_VERSION } from '@genesis/contracts';
import type { Log } from '@genesis/observability';
import type { EmbeddingClient, Embeddings } from '@genesis/vectors';
import { floats, type EvalItem } from './semantic-decontamination';

/** The shipped suites semantic decontamination compares with, by the names snapshots record. */
export const REGRESSION_SUITE = REGRESSION_SUITE_VERSION; // regression.v1
export const ANCHOR_SUITE_NAME = `${ANCHOR_SUITE.suite}-${ANCHOR_SUITE.version}`; // humaneval-1.0.3
/** Items per suite request: a page of vectors must fit a NATS message (1 MB). */
const PAGE = 64;

export interface ShippedSuiteVectors {
  items: EvalItem[];
  /** Suites that could not be compared this time, with the reason (recorded on the snapshot). */
  unchecked: Record<string, string>;
}

interface Model {
  model: string;
  version: string;
}

/**
 * The shipped evaluation suites' items as vectors of the learnings' embedding model (ADR 0018):
 * regression.v1 (its text is in libs/contracts, sent as learnings) and HumanEval (its text is only
 * in the Python package, so the embedder reads it: the `suite` request). Frozen suites: embedded
 * once per model and version, kept in suite_item_vectors, read from there afterwards. When the
 * embedder is down the first time, or runs another model than the learnings were embedded with, the
 * suite is reported unchecked with the reason (the exact decontamination against it still holds).
 */
export class SuiteVectors {
  private readonly regression: { item_id: string; context: string; correction: string }[];

  constructor(
    private readonly db: DataSource,
    private readonly embedder: EmbeddingClient,
    private readonly log: Log,
  ) {
    this.regression = readFileSync(REGRESSION_SUITE_FILE, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { item_id: string; context: string; correction: string });
  }

  async load(model: Model | undefined): Promise<ShippedSuiteVectors> {
    const out: ShippedSuiteVectors = { items: [], unchecked: {} };
    if (!model) return out; // no learning is embedded: nothing to compare
    const suites: [string, number, () => Promise<Page[]>][] = [
      [REGRESSION_SUITE, this.regression.length, () => this.embedRegression()],
      [ANCHOR_SUITE_NAME, ANCHOR_SUITE.problems, () => this.embedAnchor()],
    ];
    for (const [suite, size, embed] of suites) {
      let rows = await this.cached(suite, model);
      if (rows.length < size) {
        try {
          const pages = await embed();
          const other = pages.find((p) => p.model !== model.model || p.version !== model.version);
          if (other) {
            out.unchecked[suite] =
              `the embedder runs ${other.model} ${other.version}, the learnings were embedded with ${model.model} ${model.version}`;
            continue;
          }
          await this.keep(suite, pages);
          rows = await this.cached(suite, model);
          this.log.info('shipped suite embedded for decontamination', {
            suite,
            items: rows.length,
            ...model,
          });
        } catch (err) {
          out.unchecked[suite] = `not embedded: ${(err as Error).message}`;
          this.log.warn('shipped suite not embedded; decontamination against it is exact only this time', {
            suite,
            error: (err as Error).message,
          });
          continue;
        }
      }
      for (const r of rows) out.items.push({ id: r.item_id, suite, vector: floats(r.vector) });
    }
    return out;
  }

  private cached(suite: string, model: Model): Promise<{ item_id: string; vector: Buffer }[]> {
    return this.db.query(
      `SELECT item_id, vector FROM suite_item_vectors
        WHERE suite = $1 AND embedding_model = $2 AND embedding_version = $3`,
      [suite, model.model, model.version],
    );
  }

  private async embedRegression(): Promise<Page[]> {
    const e = await this.embedder.learnings(this.regression);
    return [{ ...e, ids: this.regression.map((r) => r.item_id) }];
  }

  private async embedAnchor(): Promise<Page[]> {
    const pages: Page[] = [];
    for (let offset = 0; offset < ANCHOR_SUITE.problems; offset += PAGE) {
      pages.push(
        await this.embedder.suite({
          name: ANCHOR_SUITE.suite,
          version: ANCHOR_SUITE.version,
          offset,
          limit: PAGE,
        }),
      );
    }
    return pages;
  }

  private async keep(suite: string, pages: Page[]): Promise<void> {
    for (const p of pages) {
      if (p.ids.length !== p.vectors.length)
        throw new Error(`the embedder returned ${p.vectors.length} vectors for ${p.ids.length} items`);
      await this.db.query(
        `INSERT INTO suite_item_vectors (suite, item_id, embedding_model, embedding_version, dimensions, vector)
         SELECT $1, r.id, $2, $3, $4, decode(r.vector, 'base64')
           FROM json_to_recordset($5::json) AS r(id text, vector text)
         ON CONFLICT DO NOTHING`,
        [
          suite,
          p.model,
          p.version,
          p.dimensions,
          JSON.stringify(
            p.ids.map((id, i) => ({
              id,
              vector: Buffer.from(Float32Array.from(p.vectors[i]!).buffer).toString('base64'),
            })),
          ),
        ],
      );
    }
  }
}

type Page = Embeddings & { ids: string[] };
