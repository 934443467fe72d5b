#!/usr/bin/env bash
# Triggers one flow run the way a user without the provider would: get a
# token (SERVICE.md §2.1), sign the call (§2.2) and POST updateAndTrigger (§3.1).
# Inputs come from the environment: ENDPOINT, ACCESS_KEY, SECRET_KEY, ORG_ID,
# USER_ID, FLOW_ID, BIZDATE.
set -euo pipefail

sha256() { openssl dgst -sha256 -r | cut -d' ' -f1; }
now_ms() { date +%s%3N; }

# Parallel scripts may share a millisecond, and the gateway refuses a
# repeated encryption (code 1001): try again with a new timestamp.
token=""
for _ in 1 2 3; do
  ts=$(now_ms)
  encryption=$(printf '%s%s%s' "$ACCESS_KEY" "$ts" "$SECRET_KEY" | sha256)
  answer=$(curl -sS -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"appKey\":\"$ACCESS_KEY\",\"encryption\":\"$encryption\",\"timestamp\":$ts}" \
    "$ENDPOINT/apim-token-service/v2.0/token/get")
  token=$(sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p' <<<"$answer")
  [ -n "$token" ] && break
done
if [ -z "$token" ]; then
  echo "token request failed: $answer" >&2
  exit 1
fi

ts=$(now_ms)
body="{\"flowId\":$FLOW_ID,\"triggerTime\":$ts,\"parameters\":[{\"key\":\"bizdate\",\"value\":\"$BIZDATE\"}]}"
signature=$(printf '%s%s%s%s%s' "$token" "actionupdateAndTriggerorgId${ORG_ID}userId${USER_ID}" "$body" "$ts" "$SECRET_KEY" | sha256)
answer=$(curl -sS -X POST -H 'Content-Type: application/json;charset=UTF-8' \
  -H "apim-accesstoken: $token" -H "apim-signature: $signature" -H "apim-timestamp: $ts" \
  --data-binary "$body" \
  "$ENDPOINT/dataflow-batch-service/v2.0/flows?action=updateAndTrigger&orgId=$ORG_ID&userId=$USER_ID")
case "$answer" in
  *'"status":0'*) ;;
  *) echo "trigger of flow $FLOW_ID failed: $answer" >&2; exit 1 ;;
esac
