-- Each write with an Idempotency-Key of its own (as the page's queue sends them).
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local writes = 0
function headers()
  writes = writes + 1
  return { ["Content-Type"] = "application/json", ["Idempotency-Key"] = id .. "-" .. writes }
end
