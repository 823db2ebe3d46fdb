// A graphql-ws client for the README's tour: prints every stock change of one product as it happens.
//   npx tsx client/watch-stock.ts 42 [ws://127.0.0.1:4000/graphql]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [productId = '1', url = 'ws://127.0.0.1:4000/graphql'] = process.argv.slice(2);
const client = createClient({ url, webSocketImpl: WebSocket });

console.log(`watching stock of product ${productId} at ${url} (Ctrl-C to stop)`);
for await (const result of client.iterate({
  query: 'subscription ($id: ID!) { inventoryChanged(productId: $id) { productId onHand reserved available inStock } }',
  variables: { id: productId },
})) {
  console.log(JSON.stringify(result));
}
