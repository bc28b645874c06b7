// The peer: @neo4j/graphql generating Cypher from a schema over the same Neo4j,
// served by @apollo/server's standalone (node:http) server.
//   NEO4J_URI=bolt://127.0.0.1:PORT NEO4J_PASSWORD=... PORT=4001 node server.mjs
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

const typeDefs = /* GraphQL */ `
  type Subject @node(labels: ["Subject"]) {
    id: ID!
    kind: String!
    name: String!
    district: String
    legalRepresentatives: [Subject!]!
      @relationship(type: "LEGAL_REPRESENTATIVE_OF", direction: IN)
    represents: [Subject!]! @relationship(type: "LEGAL_REPRESENTATIVE_OF", direction: OUT)
    sanctions: [Sanction!]! @relationship(type: "AGAINST", direction: IN)
  }

  type Sanction @node(labels: ["Sanction"]) {
    id: ID!
    listType: String!
    kind: String!
    status: String!
    decidedOn: Date!
    validFrom: Date!
    validTo: Date
    recognized: Boolean!
  }
`;

const driver = neo4j.driver(process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687", neo4j.auth.basic(process.env.NEO4J_USER ?? "neo4j", process.env.NEO4J_PASSWORD ?? ""), {
  maxConnectionPoolSize: 64,
  disableLosslessIntegers: true,
});
const neoSchema = new Neo4jGraphQL({ typeDefs, driver });
const server = new ApolloServer({ schema: await neoSchema.getSchema(), introspection: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT ?? 4001) },
});
console.log(`peer ready ${url}`);
