import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for the operations in src/, generated from the repository's SDL: no
// server is needed to generate, and a field the schema does not have fails here.
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: {
        // The walkthrough uses no fragments; masking would only add a step.
        fragmentMasking: false,
      },
      config: {
        // Each operation is its own text: what is posted is what was written.
        documentMode: 'string',
        // Every custom scalar of the schema, mapped; strictScalars fails on
        // one added later without a mapping here.
        strictScalars: true,
        scalars: {
          // Money: a decimal string, "1500.00", never a JS number (docs/scalars.md).
          Decimal: 'string',
          // RFC 3339 in UTC, "2027-01-31T00:00:00Z".
          DateTime: 'string',
          // "2027-01-31", a calendar date of the programme time zone.
          Date: 'string',
          // "2027-01", a calendar month of the programme time zone.
          Month: 'string',
          // Any JSON value (a change's detail): read it before trusting its shape.
          JSON: 'unknown',
        },
        // Enums as unions of string literals: no runtime code, and values
        // compare as the strings on the wire.
        enumType: 'string-literal',
        // A value the server adds later (a new UserErrorCode) is still typed.
        futureProofEnums: true,
        // A selected nullable field is present, as `null`, never left out.
        avoidOptionals: { field: true },
        useTypeImports: true,
        // ES modules for Node: relative imports with their `.js`.
        emitLegacyCommonJSImports: false,
      },
    },
  },
};

export default config;
