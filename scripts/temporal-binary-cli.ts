/** `npm run temporal:binary`: prints the temporal CLI the project will use, building it into the cache if needed. */
import { findTemporalBinary } from '../lib/temporal-dev-server';

const found = findTemporalBinary();
if (!found) {
  console.error(
    'No temporal CLI found and Go is not installed. Install Go 1.22+ or set TEMPORAL_BINARY; `npm start` can also use the SDK download.',
  );
  process.exit(1);
}
console.log(found);
