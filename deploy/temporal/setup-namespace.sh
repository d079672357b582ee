#!/bin/sh
# Waits for the Temporal server, then makes sure the namespace and every custom search attribute the
# processes write exist (SEARCH_ATTRIBUTES: "Name=Type ..."). It exits 0 only when all of them are there,
# so the API and the worker, which wait for this job to complete, never start against a half-set-up server.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${SEARCH_ATTRIBUTES:?set SEARCH_ATTRIBUTES, e.g. OrderId=Keyword Channel=Keyword}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"

tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1)); [ "$tries" -ge 60 ] && { echo "Temporal at $TEMPORAL_ADDRESS is not healthy after 2 minutes"; exit 1; }
  sleep 2
done

temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"

# A new namespace is served a moment after it is created, and refuses attributes until then: create what is
# missing and look again, until every attribute is listed.
tries=0
while :; do
  listed=$(temporal operator search-attribute list --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" 2>/dev/null || true)
  missing=""
  for pair in $SEARCH_ATTRIBUTES; do
    echo "$listed" | grep -qw "${pair%%=*}" || missing="$missing $pair"
  done
  [ -z "$missing" ] && break
  tries=$((tries + 1)); [ "$tries" -ge 30 ] && { echo "search attributes still missing:$missing"; exit 1; }
  for pair in $missing; do
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "${pair%%=*}" --type "${pair#*=}" \
      --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 || true # refused while the namespace is new; tried again
  done
  sleep 2
done
echo "namespace $NAMESPACE and search attributes ready: $SEARCH_ATTRIBUTES"
