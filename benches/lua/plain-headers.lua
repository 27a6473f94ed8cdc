-- The plain session's headers.
local plain = { ["Content-Type"] = "application/json" }
function headers() return plain end
