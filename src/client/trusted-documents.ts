import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/**
 * Trusted documents on the client side (docs/operations.md#trusted-documents). `npm run codegen`
 * (client preset, `persistedDocuments`) puts each operation's id in the generated document's
 * `__meta__.hash` ("sha256:<hex>") and its text in generated/persisted-documents.json.
 */
export function documentIdOf(document: TypedDocumentNode<any, any>): string {
  const id = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof id !== 'string') throw new Error("this document has no __meta__.hash: generate it with the client preset's persistedDocuments option");
  return id;
}

/** The request body (HTTP POST) or graphql-ws subscribe payload naming a generated document by its id only. */
export function trustedRequest<TVariables>(document: TypedDocumentNode<any, TVariables>, variables?: TVariables, operationName?: string) {
  // graphql-ws requires `query` to be a string: "" there, absent over HTTP is fine too.
  return { documentId: documentIdOf(document), query: '', variables: variables as Record<string, unknown> | undefined, operationName };
}
