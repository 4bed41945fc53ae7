-- The raw write baseline: POST /insert, one INSERT + COMMIT per request.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local n = 0

function request()
  n = n + 1
  return wrk.format("POST", "/insert", { ["Content-Type"] = "application/json" },
    '{"name":"Bench Org ' .. id .. ' ' .. n .. '"}')
end
