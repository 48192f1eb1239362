import 'reflect-metadata';
import { buildGatewaySchema, SCHEMA_FILE } from '../src/api/schema';

/** `npm run schema`: writes schema/schema.graphql from the code-first schema. */
buildGatewaySchema({ emit: true }).then(
  () => console.log(`wrote ${SCHEMA_FILE}`),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
