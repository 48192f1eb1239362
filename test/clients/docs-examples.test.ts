import fs from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  isInterfaceType,
  isObjectType,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';

/**
 * Every GraphQL example in README.md and docs/ is valid against the
 * committed schema and selects `id` on every object that has one: a
 * normalized cache (Apollo Client, urql Graphcache, Apollo Kotlin/iOS) only
 * applies a subscription push to the object it can identify.
 */

const ROOT = path.resolve(__dirname, '../..');
const schema = buildSchema(fs.readFileSync(path.join(ROOT, 'schema/schema.graphql'), 'utf8'));
const files = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GraphQL in ```graphql fences, gql`…` templates, `query: '…'` strings and inline `query {…}` spans. */
function examplesIn(markdown: string): string[] {
  const found: string[] = [];
  for (const [, body] of markdown.matchAll(/```graphql\n([\s\S]*?)```/g)) found.push(body);
  for (const [, fence] of markdown.matchAll(/```(?:ts|js|tsx)\n([\s\S]*?)```/g)) {
    for (const [, body] of fence.matchAll(/gql`([^`]*)`/g)) found.push(body);
    for (const [, body] of fence.matchAll(/query: '((?:query|subscription|mutation)[^']*)'/g)) found.push(body);
  }
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  for (const [, body] of prose.matchAll(/`((?:query|subscription|mutation)\s*(?:\w+\s*)?(?:\([^`]*?\)\s*)?\{[^`]*\})`/g)) found.push(body);
  return found;
}

/** Field names a selection set selects on its own type, through fragments without another type condition. */
function selectedFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, typeName: string): Set<string> {
  const names = new Set<string>();
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!selection.typeCondition || selection.typeCondition.name.value === typeName)
        for (const n of selectedFields(selection.selectionSet, fragments, typeName)) names.add(n);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && fragment.typeCondition.name.value === typeName) for (const n of selectedFields(fragment.selectionSet, fragments, typeName)) names.add(n);
    }
  }
  return names;
}

/** "Payment at payment" for each selection set on an object with `id` that does not select it. */
function missingIds(document: DocumentNode): string[] {
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const typeInfo = new TypeInfo(schema);
  const missing: string[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const type = getNamedType(typeInfo.getType());
        if (!node.selectionSet || !(isObjectType(type) || isInterfaceType(type)) || !type.getFields().id) return;
        if (!selectedFields(node.selectionSet, fragments, type.name).has('id')) missing.push(`${type.name} at ${node.name.value}`);
      },
    }),
  );
  return missing;
}

describe('README and docs examples', () => {
  const examples = files.flatMap((file) => examplesIn(fs.readFileSync(path.join(ROOT, file), 'utf8')).map((query) => ({ file, query })));

  it('there are examples to check (README, docs/clients.md)', () => {
    expect(examples.filter((e) => e.file === 'README.md').length).toBeGreaterThanOrEqual(3);
    expect(examples.filter((e) => e.file === 'docs/clients.md').length).toBeGreaterThanOrEqual(3);
  });

  it('each is valid against schema/schema.graphql and selects id on every object', () => {
    const problems: string[] = [];
    for (const { file, query } of examples) {
      const label = `${file}: ${query.replace(/\s+/g, ' ').trim().slice(0, 80)}`;
      let document: DocumentNode;
      try {
        document = parse(query);
      } catch (error) {
        problems.push(`${label}: ${(error as Error).message}`);
        continue;
      }
      for (const error of validate(schema, document)) problems.push(`${label}: ${error.message}`);
      for (const where of missingIds(document)) problems.push(`${label}: no id on ${where}`);
    }
    expect(problems).toEqual([]);
  });
});
