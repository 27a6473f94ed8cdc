"""schemathesis hooks for scripts/fuzz-api.

A POST sent again under the same Idempotency-Key gets the answer kept for it: the 201 and the todo
it created, even when that todo has been deleted since. That is the contract (the key means "this
request, once"), but schemathesis's "created resource not found" check (ST302) then follows the
Location to a 404. So every creating POST gets a key of its own; replays under one key are tested
in tests/api (idempotency).
"""
import uuid

import schemathesis


@schemathesis.hook
def map_headers(ctx, headers):
    operation = ctx.operation
    if headers and operation is not None and operation.method.upper() == "POST":
        for name in list(headers):
            # Keys of up to 255 characters are taken: a suffix of 37 keeps a valid key valid.
            if name.lower() == "idempotency-key" and len(headers[name]) <= 255 - 37:
                headers[name] = f"{headers[name]}-{uuid.uuid4()}"
    return headers
