-- Concord's command mix, a quarter each: apply to join (a unique name), add a
-- representative (to a member with room for one), cast a vote (a distinct motion and
-- member pair, the motion open for voting), record attendance (hold a scheduled meeting).
-- Each wrk thread draws from its own slice of what the setup created (BENCH_DATA); when
-- a pool runs dry the request becomes an application instead (counted as `fallback`).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local kinds = { "apply", "rep", "vote", "hold" }
local mine, keys, run
local taken = { apply = 0, rep = 0, vote = 0, hold = 0 }
local n = 0

function init(args)
  local data = load_data()
  mine = data.threads[id + 1]
  keys = data.keys
  run = data.run
  math.randomseed(id + 7)
end

local function letters(number)
  -- names are letters only (e.g. "Bench Org bcd")
  local out = ""
  repeat
    out = string.char(97 + number % 26) .. out
    number = math.floor(number / 26)
  until number == 0
  return out
end

local function post(slug, path, body)
  return wrk.format("POST", "/v1/tenants/" .. slug .. path, {
    ["Authorization"] = "Bearer " .. keys[slug],
    ["Content-Type"] = "application/json",
  }, body)
end

function request()
  n = n + 1
  local kind = kinds[(n - 1) % 4 + 1]
  local pool = mine[kind]
  if kind ~= "apply" and taken[kind] >= #pool then
    fallback = fallback + 1
    kind = "apply"
    pool = mine.apply
  end
  taken[kind] = taken[kind] + 1
  local i = taken[kind]
  if kind == "apply" then
    local slug = pool[(i - 1) % #pool + 1]
    local name = "Bench Org " .. run .. " " .. letters(id) .. " " .. letters(i)
    return post(slug, "/applications", '{"name":"' .. name .. '","request_text":"We ask to join.",'
      .. '"signatory_role":"Chief Executive","signatory_name":"Alex Morgan"}')
  end
  local item = pool[i]
  if kind == "rep" then
    local who = run .. "." .. id .. "." .. i
    return post(item[1], "/members/" .. item[2] .. "/representatives",
      '{"name":"Rep ' .. letters(id * 100000 + i) .. '","email":"rep.' .. who
      .. '@example.org","role":"Head of policy"}')
  elseif kind == "vote" then
    return post(item[1], "/motions/" .. item[2] .. "/votes",
      '{"choice":"for","member_id":"' .. item[3] .. '"}')
  end
  local present = {}
  for _, member in ipairs(item[3]) do
    table.insert(present, '{"member_id":"' .. member .. '"}')
  end
  return post(item[1], "/meetings/" .. item[2] .. "/hold",
    '{"attendance":[' .. table.concat(present, ",") .. '],"apologies":[]}')
end
