import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { GatewayContext } from './context';
import { createFormatError } from './errors/format-error';

/** Adds the request id to every error, and logs the internal ones with it. */
const requestIdPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ contextValue, errors }) {
        for (const error of errors) {
          const code = error.extensions?.code;
          if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
            contextValue.log.error({ err: error.originalError ?? error, requestId: contextValue.requestId, path: error.path }, 'internal error');
          }
        }
      },
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind === 'single' && response.body.singleResult.errors) {
          for (const error of response.body.singleResult.errors) {
            (error as { extensions?: Record<string, unknown> }).extensions = { ...error.extensions, requestId: contextValue.requestId };
          }
        }
      },
    };
  },
};

export function createApollo(schema: GraphQLSchema, options: { production: boolean; introspection: boolean }): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    introspection: options.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError({ production: options.production, onInternal: () => undefined }),
    plugins: [
      requestIdPlugin,
      options.production && !options.introspection
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
}
