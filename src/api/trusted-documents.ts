import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Kind, parse } from 'graphql';
import { GatewayError } from '../domain/errors';
// Imported, not read from disk: `npm run build` copies it next to the code.
import gatewayManifest from '../client/generated/persisted-documents.json';
import type { Principal } from '../services/merchant.service';

/** The named operations of GraphQL documents (texts that do not parse name nothing). */
export function operationNamesOf(texts: Iterable<string>): Set<string> {
  const names = new Set<string>();
  for (const text of texts) {
    try {
      for (const definition of parse(text).definitions) {
        if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
      }
    } catch {
      // not GraphQL: Apollo refuses it when it is sent; it names nothing
    }
  }
  return names;
}

/** The operation names of the documents the gateway ships (its own manifest, whatever the policy). */
export function shippedOperationNames(): Set<string> {
  return operationNamesOf(Object.values(gatewayManifest as Record<string, string>));
}

/**
 * Which requests must name a trusted document (docs/operations.md#trusted-documents):
 * - `off`: `documentId` is not accepted; any document runs.
 * - `allow`: `documentId` is accepted; any document runs too.
 * - `enforce-client-secrets`: a client-secret principal runs trusted documents only; the API key (and
 *   an unauthenticated request, which auth refuses anyway) runs anything.
 * - `enforce`: every request runs trusted documents only.
 */
export const TRUSTED_DOCUMENTS_POLICIES = ['off', 'allow', 'enforce-client-secrets', 'enforce'] as const;
export type TrustedDocumentsPolicy = (typeof TRUSTED_DOCUMENTS_POLICIES)[number];

/** HTTP statuses of the refusals (as Apollo's router: unknown id 404, untrusted document 403, both sent 400). */
export const TRUSTED_DOCUMENT_STATUS = { TRUSTED_DOCUMENT_NOT_FOUND: 404, TRUSTED_DOCUMENT_REQUIRED: 403, BAD_REQUEST: 400 } as const;

const SHA256_ID = /^sha256:[0-9a-f]{64}$/;

/**
 * Reads one manifest: the client preset's `{ "sha256:<hex>": "<document>" }` (older presets write
 * bare hex keys), or Apollo's `apollo-persisted-query-manifest` (`operations: [{ id, body }]`).
 * Every id must be the sha256 of its text, so a manifest cannot pass one document off as another.
 * Throws an Error whose message is one line naming the file and the problem.
 */
export function readManifest(file: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof SyntaxError ? 'not JSON' : 'unreadable');
    throw new Error(`${file} cannot be read as a trusted-documents manifest (${reason})`);
  }
  return parseManifest(raw, file);
}

/** {@link readManifest} for a parsed manifest; `file` names it in the error. */
export function parseManifest(raw: unknown, file: string): Map<string, string> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file} is not a trusted-documents manifest (expected a JSON object)`);
  const record = raw as Record<string, unknown>;
  const entries: Array<[string, unknown]> =
    record.format === 'apollo-persisted-query-manifest' && Array.isArray(record.operations)
      ? (record.operations as Array<{ id?: unknown; body?: unknown }>).map((op) => [String(op?.id), op?.body])
      : Object.entries(record);
  const documents = new Map<string, string>();
  for (const [key, text] of entries) {
    const id = /^[0-9a-f]{64}$/.test(key) ? `sha256:${key}` : key;
    if (!SHA256_ID.test(id) || typeof text !== 'string' || !text) {
      throw new Error(`${file}: entry "${key.slice(0, 80)}" is not "sha256:<64 hex>": "<document>"`);
    }
    if (id !== documentIdOf(text)) throw new Error(`${file}: entry ${id} is not the sha256 of its document`);
    documents.set(id, text);
  }
  return documents;
}

/** `sha256:<hex>` of a document's text, the id the client preset and Apollo's APQ hash use. */
export function documentIdOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** What a request asks to run, read from the HTTP body / query string or the graphql-ws payload before anything parses it. */
export interface DocumentRequest {
  documentId?: unknown;
  query?: unknown;
  /** APQ's `extensions.persistedQuery.sha256Hash`, when sent. */
  apqHash?: unknown;
}

/** APQ's `extensions.persistedQuery.sha256Hash` (null when the extension has none; undefined without the extension). */
export function apqHashOf(extensions: unknown): unknown {
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
  return persisted && typeof persisted === 'object' ? (persisted.sha256Hash ?? null) : undefined;
}

export type DocumentVerdict =
  /** Run the request; with `text`, as this trusted document (its `documentId` or APQ hash resolved). */
  { ok: true; text?: string } | { ok: false; error: GatewayError; status: number };

/** The trusted documents (gateway's own manifest + the merchant's) and the policy that applies them. */
export class TrustedDocuments {
  private readonly texts: ReadonlySet<string>;

  constructor(
    readonly policy: TrustedDocumentsPolicy,
    private readonly byId: ReadonlyMap<string, string>,
  ) {
    this.texts = new Set(byId.values());
  }

  /**
   * The gateway's own manifest (src/client/generated/persisted-documents.json, written by
   * `npm run codegen`) merged with the merchant's `manifests`.
   */
  static load(policy: TrustedDocumentsPolicy, manifests: readonly string[] = []): TrustedDocuments {
    const byId = new Map<string, string>();
    if (policy !== 'off') {
      for (const [id, text] of parseManifest(gatewayManifest, 'src/client/generated/persisted-documents.json')) byId.set(id, text);
      for (const file of manifests) for (const [id, text] of readManifest(file)) byId.set(id, text);
    }
    return new TrustedDocuments(policy, byId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The operation names of the trusted documents (a set fixed at start: safe as metric labels). */
  operationNames(): Set<string> {
    return operationNamesOf(this.texts);
  }

  /**
   * Whether a request may run, and which text when it names a `documentId`. `principal` is asked
   * only when the answer depends on it (a raw, untrusted document under `enforce-client-secrets`).
   */
  async check(request: DocumentRequest, principal: () => Promise<Principal | null>): Promise<DocumentVerdict> {
    const { documentId, query, apqHash } = request;
    const refuse = (code: keyof typeof TRUSTED_DOCUMENT_STATUS, message: string): DocumentVerdict => ({
      ok: false,
      error: new GatewayError(code, message),
      status: TRUSTED_DOCUMENT_STATUS[code],
    });
    if (documentId !== undefined && documentId !== null) {
      if (this.policy === 'off') return refuse('BAD_REQUEST', 'documentId is not accepted by this gateway (TRUSTED_DOCUMENTS=off): send the query text');
      if (typeof documentId !== 'string' || !documentId) return refuse('BAD_REQUEST', 'documentId must be a string such as "sha256:<64 hex digits>"');
      if ((typeof query === 'string' && query !== '') || apqHash !== undefined) {
        return refuse('BAD_REQUEST', 'Send either documentId or a query (or an APQ persistedQuery), not both');
      }
      const text = this.byId.get(documentId);
      if (text === undefined) {
        return refuse(
          'TRUSTED_DOCUMENT_NOT_FOUND',
          `documentId "${documentId.slice(0, 80)}" is not a trusted document of this gateway: ship the manifest of this client build (TRUSTED_DOCUMENTS_MANIFESTS)`,
        );
      }
      return { ok: true, text };
    }
    if (this.policy === 'off' || this.policy === 'allow') return { ok: true };
    // A raw document is trusted when its text is one of the manifest's, and an APQ hash when it is a manifest id
    // (the APQ hash of a text is its sha256): stock APQ clients keep working with the shipped documents.
    if (typeof query === 'string' && query !== '') {
      if (this.texts.has(query)) return { ok: true };
    } else if (typeof apqHash === 'string') {
      // Sent with its text: Apollo checks the hash against it and runs it, on any instance.
      const text = this.byId.get(`sha256:${apqHash.toLowerCase()}`);
      if (text !== undefined) return { ok: true, text };
    } else {
      return { ok: true }; // no document at all: Apollo / graphql-ws answer that themselves
    }
    if (this.policy === 'enforce-client-secrets' && (await principal())?.kind !== 'client') return { ok: true };
    return refuse(
      'TRUSTED_DOCUMENT_REQUIRED',
      this.policy === 'enforce'
        ? 'This gateway runs trusted documents only: send {"documentId": "sha256:…"} from your build\'s manifest'
        : 'A client secret may run trusted documents only: send {"documentId": "sha256:…"} from your build\'s manifest',
    );
  }
}
