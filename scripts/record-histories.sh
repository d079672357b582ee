#!/usr/bin/env bash
# Records replay fixtures: runs the order scenarios on a real stack and saves
# each finished workflow's history to tests/fixtures/histories. Run it before
# changing workflow code, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORD_HISTORIES=1 npx jest tests/e2e/order-branches.test.ts tests/e2e/returns.test.ts tests/e2e/exceptions.test.ts tests/e2e/procure-to-pay.test.ts tests/e2e/replenishment.test.ts tests/e2e/activity-failures.test.ts tests/e2e/notifications.test.ts tests/e2e/reconciliation.test.ts tests/e2e/warehouse-truth.test.ts tests/e2e/holds.test.ts tests/e2e/channel-sync.test.ts tests/e2e/marketplace-orders.test.ts tests/e2e/outbound-webhooks.test.ts "$@"
ls tests/fixtures/histories | wc -l | xargs echo "histories recorded:"
