-- A page of the member register (limit 50), over the thread's tenants in turn. The same
-- script reads the raw baseline, which serves the same path with the same SELECT.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local slugs, keys
local n = 0

function init(args)
  local data = load_data()
  slugs = data.threads[id + 1].apply
  keys = data.keys
end

function request()
  n = n + 1
  local slug = slugs[(n - 1) % #slugs + 1]
  return wrk.format("GET", "/v1/tenants/" .. slug .. "/members?limit=50",
    { ["Authorization"] = "Bearer " .. keys[slug] })
end
