-- bigpetstore.lua: BigPetStore-style pet store transactions for kapture-engine.
--
-- Loosely modelled on Apache Bigtop's BigPetStore data generator: stores are
-- placed in real cities of the chosen states, each store has its own customers
-- living near it, and every transaction is one basket of 1-4 pet products.
-- Unlike the original, everything is drawn from math.random, so the same seed
-- gives the same data.
--
-- Params (scenario `generator.params`, all optional):
--   states              array of lowercase state names (or two-letter codes),
--                       default {"massachusetts", "california", "texas"}
--   stores_per_state    integer >= 1, default 10
--   customers_per_store integer >= 1, default 50
--   weighted_stores     boolean, default true: each store gets a weight at init
--                       (city size x random factor) and records pick stores in
--                       proportion to it; false picks stores uniformly
--
-- The world (stores, customers, catalog) depends only on kapture.seed and the
-- params, so every worker thread builds the same one. The per-record stream
-- starts from the engine's seeding of math.random, mixed with kapture.worker.
-- See lua/README.md for the record shape.

local floor, sqrt, cos, sin, log, pi = math.floor, math.sqrt, math.cos, math.sin, math.log, math.pi
local random, randomseed = math.random, math.randomseed
local format, lower = string.format, string.lower
local concat = table.concat

---------------------------------------------------------------------------
-- Static data
---------------------------------------------------------------------------

-- Per state: code and cities { name, lat, lon, zip_lo, zip_hi, population (thousands) }.
-- Zip ranges are real ranges of each city (all inside the state's range).
local STATES = {
  massachusetts = { code = "MA", zip = { 1001, 2791 }, cities = {
    { "Boston",        42.3601,  -71.0589,  2108,  2137, 675 },
    { "Worcester",     42.2626,  -71.8023,  1601,  1610, 206 },
    { "Springfield",   42.1015,  -72.5898,  1103,  1129, 155 },
    { "Cambridge",     42.3736,  -71.1097,  2138,  2142, 118 },
    { "Lowell",        42.6334,  -71.3162,  1850,  1854, 115 },
    { "New Bedford",   41.6362,  -70.9342,  2740,  2746, 101 },
  } },
  california = { code = "CA", zip = { 90001, 96162 }, cities = {
    { "Los Angeles",   34.0522, -118.2437, 90001, 90089, 3899 },
    { "San Diego",     32.7157, -117.1611, 92101, 92154, 1386 },
    { "San Jose",      37.3382, -121.8863, 95110, 95139, 1013 },
    { "San Francisco", 37.7749, -122.4194, 94102, 94134, 874 },
    { "Fresno",        36.7378, -119.7871, 93701, 93730, 542 },
    { "Sacramento",    38.5816, -121.4944, 95814, 95838, 524 },
  } },
  texas = { code = "TX", zip = { 75001, 79999 }, cities = {
    { "Houston",       29.7604,  -95.3698, 77002, 77099, 2304 },
    { "San Antonio",   29.4241,  -98.4936, 78201, 78266, 1434 },
    { "Dallas",        32.7767,  -96.7970, 75201, 75254, 1304 },
    { "Austin",        30.2672,  -97.7431, 78701, 78759, 961 },
    { "Fort Worth",    32.7555,  -97.3308, 76102, 76179, 918 },
    { "El Paso",       31.7619, -106.4850, 79901, 79938, 678 },
    { "Lubbock",       33.5779, -101.8552, 79401, 79424, 257 },
  } },
  ["new york"] = { code = "NY", zip = { 10001, 14925 }, cities = {
    { "New York",      40.7128,  -74.0060, 10001, 10282, 1629 },
    { "Brooklyn",      40.6782,  -73.9442, 11201, 11256, 2737 },
    { "Buffalo",       42.8864,  -78.8784, 14201, 14228, 278 },
    { "Rochester",     43.1566,  -77.6088, 14604, 14627, 211 },
    { "Syracuse",      43.0481,  -76.1474, 13202, 13224, 148 },
    { "Albany",        42.6526,  -73.7562, 12202, 12210, 99 },
  } },
  washington = { code = "WA", zip = { 98001, 99403 }, cities = {
    { "Seattle",       47.6062, -122.3321, 98101, 98199, 737 },
    { "Spokane",       47.6588, -117.4260, 99201, 99224, 229 },
    { "Tacoma",        47.2529, -122.4443, 98402, 98422, 219 },
    { "Vancouver",     45.6387, -122.6615, 98660, 98687, 190 },
    { "Bellevue",      47.6101, -122.2015, 98004, 98008, 151 },
    { "Olympia",       47.0379, -122.9007, 98501, 98516, 55 },
  } },
  illinois = { code = "IL", zip = { 60001, 62999 }, cities = {
    { "Chicago",       41.8781,  -87.6298, 60601, 60661, 2746 },
    { "Naperville",    41.7508,  -88.1535, 60540, 60565, 149 },
    { "Rockford",      42.2711,  -89.0940, 61101, 61114, 148 },
    { "Springfield",   39.7817,  -89.6501, 62701, 62712, 114 },
    { "Peoria",        40.6936,  -89.5890, 61602, 61615, 113 },
    { "Champaign",     40.1164,  -88.2434, 61820, 61826, 88 },
  } },
  florida = { code = "FL", zip = { 32003, 34997 }, cities = {
    { "Jacksonville",  30.3322,  -81.6557, 32202, 32277, 950 },
    { "Miami",         25.7617,  -80.1918, 33125, 33199, 442 },
    { "Tampa",         27.9506,  -82.4572, 33602, 33647, 385 },
    { "Orlando",       28.5383,  -81.3792, 32801, 32839, 307 },
    { "Tallahassee",   30.4383,  -84.2807, 32301, 32317, 196 },
  } },
  oregon = { code = "OR", zip = { 97001, 97920 }, cities = {
    { "Portland",      45.5152, -122.6784, 97201, 97267, 652 },
    { "Eugene",        44.0521, -123.0868, 97401, 97408, 176 },
    { "Salem",         44.9429, -123.0351, 97301, 97317, 175 },
    { "Bend",          44.0582, -121.3153, 97701, 97703, 99 },
  } },
  colorado = { code = "CO", zip = { 80001, 81658 }, cities = {
    { "Denver",        39.7392, -104.9903, 80202, 80249, 715 },
    { "Colorado Springs", 38.8339, -104.8214, 80903, 80951, 478 },
    { "Fort Collins",  40.5853, -105.0844, 80521, 80528, 170 },
    { "Boulder",       40.0150, -105.2705, 80301, 80310, 108 },
  } },
}

-- Sorted list of known names, for error messages.
local KNOWN = {}
for name in pairs(STATES) do KNOWN[#KNOWN + 1] = name end
table.sort(KNOWN)

local CODE_TO_NAME = {}
for name, st in pairs(STATES) do CODE_TO_NAME[lower(st.code)] = name end

local FIRST_NAMES = {
  "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
  "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
  "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa",
  "Anthony", "Betty", "Mark", "Margaret", "Steven", "Sandra", "Paul", "Ashley",
  "Andrew", "Emily", "Joshua", "Donna", "Kevin", "Michelle", "Brian", "Carol",
  "Jose", "Maria", "Wei", "Mei", "Luis", "Ana", "Omar", "Aisha",
}

local LAST_NAMES = {
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
  "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
  "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
  "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
  "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
  "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Chen",
}

-- Catalog: category -> brands and sizes with a price range in cents per size.
local CATALOG = {
  { category = "dry dog food", brands = { "Happy Pup", "Chef Corgi", "Dog Days", "Wellfed Hound" },
    sizes = { { "4.5 lb", 899, 1299 }, { "15 lb", 1899, 2899 }, { "30 lb", 3299, 5499 } } },
  { category = "dry cat food", brands = { "Feisty Feline", "Kitty Cuisine", "Purr Plate" },
    sizes = { { "3.5 lb", 699, 1199 }, { "7 lb", 1299, 1999 }, { "15 lb", 2499, 3799 } } },
  { category = "kitty litter", brands = { "Pretty Cat", "Fresh Paws", "Clump King" },
    sizes = { { "10 lb", 599, 899 }, { "20 lb", 1099, 1599 }, { "40 lb", 1799, 2599 } } },
  { category = "poop bags", brands = { "Tail Wag", "Dog Days", "Green Walk" },
    sizes = { { "60 bags", 399, 699 }, { "120 bags", 799, 1199 }, { "240 bags", 1399, 1999 } } },
}

-- How many products a basket has: 1..4 with weights 45/30/17/8 (percent).
local NPROD_CUT = { 45, 75, 92, 100 }

local MAX_CUSTOMERS = 40000

---------------------------------------------------------------------------
-- World state (built in init)
---------------------------------------------------------------------------

local initialized = false
local id_prefix                  -- "tx-<seed>-"
local n_stores = 0
local stores = {}                -- 1..n_stores: { id, name, location }
local customers = {}             -- [store][1..cps]: { id, name, location }
local cps = 50
local alias_prob, alias_idx = {}, {}   -- alias tables over stores (Vose)
local weighted = true
local n_items = 0
local items = {}                 -- [i][q] = product table with quantity q
local item_cents = {}            -- [i] = unit price in cents

local function round4(x) return floor(x * 10000 + 0.5) / 10000 end

-- Point at distance `miles` in a uniformly random direction from (lat, lon).
local function offset(lat, lon, miles)
  local theta = random() * 2 * pi
  local dlat = miles * cos(theta) / 69.0
  local dlon = miles * sin(theta) / (69.0 * cos(lat * pi / 180))
  return lat + dlat, lon + dlon
end

local function nearest_city(cities, lat, lon)
  local best, bestd = 1, math.huge
  local coslat = cos(lat * pi / 180)
  for i = 1, #cities do
    local c = cities[i]
    local dy, dx = c[2] - lat, (c[3] - lon) * coslat
    local d = dy * dy + dx * dx
    if d < bestd then best, bestd = i, d end
  end
  return cities[best]
end

local function make_location(st, stname, city, lat, lon)
  return {
    zipcode = format("%05d", random(city[4], city[5])),
    city = city[1],
    state = stname,
    state_code = st.code,
    coordinates = { lat = round4(lat), lon = round4(lon) },
  }
end

-- Pick an index in 1..#w with probability proportional to w[i] (init only).
local function pick_weighted(w, total)
  local r = random() * total
  for i = 1, #w do
    r = r - w[i]
    if r < 0 then return i end
  end
  return #w
end

-- Vose's alias method: O(1) weighted store choice in generate().
local function build_alias(w)
  local n, total = #w, 0
  for i = 1, n do total = total + w[i] end
  local p, small, large = {}, {}, {}
  for i = 1, n do
    p[i] = w[i] * n / total
    if p[i] < 1 then small[#small + 1] = i else large[#large + 1] = i end
  end
  local prob, alias = {}, {}
  while #small > 0 and #large > 0 do
    local s = table.remove(small)
    local l = large[#large]
    prob[s], alias[s] = p[s], l
    p[l] = p[l] + p[s] - 1
    if p[l] < 1 then
      table.remove(large)
      small[#small + 1] = l
    end
  end
  for _, i in ipairs(large) do prob[i], alias[i] = 1, i end
  for _, i in ipairs(small) do prob[i], alias[i] = 1, i end
  return prob, alias
end

local function param_int(params, name, default, max)
  local v = params[name]
  if v == nil then return default end
  if type(v) ~= "number" or v ~= floor(v) or v < 1 or v > max then
    error(format("bigpetstore: param '%s' must be an integer between 1 and %d (got %s)",
      name, max, tostring(v)))
  end
  return v
end

local function resolve_states(list)
  if list == nil then return { "massachusetts", "california", "texas" } end
  if type(list) == "string" then list = { list } end
  if type(list) ~= "table" or #list == 0 then
    error("bigpetstore: param 'states' must be a non-empty array of state names")
  end
  local out, seen = {}, {}
  for i = 1, #list do
    local raw = list[i]
    local name = type(raw) == "string" and lower(raw) or nil
    if name and not STATES[name] then name = CODE_TO_NAME[name] end
    if not name then
      error(format("bigpetstore: unknown state '%s' (known: %s)", tostring(raw), concat(KNOWN, ", ")))
    end
    if not seen[name] then
      seen[name] = true
      out[#out + 1] = name
    end
  end
  return out
end

---------------------------------------------------------------------------
-- init
---------------------------------------------------------------------------

function init(params)
  params = params or {}
  if type(params) ~= "table" then error("bigpetstore: params must be a map") end
  local K = kapture or {}
  local seed = tonumber(K.seed) or 0
  local worker = tonumber(K.worker) or 0

  local known_params = { states = true, stores_per_state = true, customers_per_store = true, weighted_stores = true }
  for k in pairs(params) do
    if not known_params[k] and K.log then K.log("bigpetstore: ignoring unknown param '" .. tostring(k) .. "'") end
  end

  local state_names = resolve_states(params.states)
  local sps = param_int(params, "stores_per_state", 10, 100000)
  cps = param_int(params, "customers_per_store", 50, 1000000)
  -- Building a customer costs ~200 Lua instructions and ~0.5 KiB: the cap keeps
  -- init() well inside the engine's 10M-instruction validation budget.
  if #state_names * sps * cps > MAX_CUSTOMERS then
    error(format("bigpetstore: %d states x %d stores x %d customers is more than %d customers",
      #state_names, sps, cps, MAX_CUSTOMERS))
  end
  weighted = params.weighted_stores
  if weighted == nil then weighted = true end
  if type(weighted) ~= "boolean" then error("bigpetstore: param 'weighted_stores' must be a boolean") end

  -- The record stream keeps the engine's seeding (mixed with the worker index);
  -- the world is built from kapture.seed alone so all workers share it.
  local stream_seed = floor(random() * 2147483647) + worker * 1000003
  randomseed(seed)

  id_prefix = format("tx-%d-", seed)

  -- Catalog: one price per brand x size, drawn once.
  items, item_cents, n_items = {}, {}, 0
  for _, cat in ipairs(CATALOG) do
    for _, brand in ipairs(cat.brands) do
      for _, sz in ipairs(cat.sizes) do
        -- dollars from the size's range, cents ending in 9 (.49/.79/.99 style)
        local cents = floor(random(sz[2], sz[3]) / 10) * 10 + 9
        n_items = n_items + 1
        item_cents[n_items] = cents
        local price = cents / 100
        local byq = {}
        for q = 1, 3 do
          byq[q] = { category = cat.category, brand = brand, size = sz[1], price = price, quantity = q }
        end
        items[n_items] = byq
      end
    end
  end

  -- Stores and customers.
  stores, customers, n_stores = {}, {}, 0
  local weights = {}
  local cid = 0
  for _, stname in ipairs(state_names) do
    local st = STATES[stname]
    local cities = st.cities
    local cw, ctotal = {}, 0
    for i = 1, #cities do
      cw[i] = sqrt(cities[i][6])         -- big cities get more stores, not all of them
      ctotal = ctotal + cw[i]
    end
    for _ = 1, sps do
      local city = cities[pick_weighted(cw, ctotal)]
      local slat, slon = offset(city[2], city[3], 3 * sqrt(random()))  -- within 3 mi of centre
      n_stores = n_stores + 1
      local sid = n_stores
      local store = { id = sid, name = "Store_" .. sid, location = make_location(st, stname, city, slat, slon) }
      stores[sid] = store
      -- store weight ~ city size x a random factor in [0.5, 1.5)
      weights[sid] = sqrt(city[6]) * (0.5 + random())
      local list = {}
      for j = 1, cps do
        cid = cid + 1
        -- distance from the store: exponential, mean 5 mi, capped at 25 mi
        local miles = -5 * log(1 - random())
        if miles > 25 then miles = 25 end
        local clat, clon = offset(slat, slon, miles)
        local ccity = nearest_city(cities, clat, clon)
        list[j] = {
          id = cid,
          name = FIRST_NAMES[random(#FIRST_NAMES)] .. " " .. LAST_NAMES[random(#LAST_NAMES)],
          location = make_location(st, stname, ccity, clat, clon),
        }
      end
      customers[sid] = list
    end
  end
  if not weighted then
    for i = 1, n_stores do weights[i] = 1 end
  end
  alias_prob, alias_idx = build_alias(weights)

  randomseed(stream_seed)
  initialized = true
  if K.log then
    K.log(format("bigpetstore: %d states, %d stores, %d customers, %d products",
      #state_names, n_stores, cid, n_items))
  end
end

---------------------------------------------------------------------------
-- dateTime: ISO-8601 UTC from Unix ms, cached per second
---------------------------------------------------------------------------

local last_sec, last_sec_str = nil, nil

local function iso_seconds(sec)
  local days = floor(sec / 86400)
  local sod = sec - days * 86400
  -- civil_from_days (proleptic Gregorian)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  local h = floor(sod / 3600)
  local mi = floor((sod - h * 3600) / 60)
  local s = sod - h * 3600 - mi * 60
  return format("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, h, mi, s)
end

local function iso_ms(now_ms)
  local ms = floor(now_ms)
  local sec = floor(ms / 1000)
  if sec ~= last_sec then
    last_sec, last_sec_str = sec, iso_seconds(sec)
  end
  return format("%s.%03dZ", last_sec_str, ms - sec * 1000)
end

---------------------------------------------------------------------------
-- generate
---------------------------------------------------------------------------

function generate(seq, now_ms)
  if not initialized then init({}) end

  -- store (alias method) and one of its customers
  local u = random() * n_stores
  local si = floor(u)
  local sid = si + 1
  if u - si >= alias_prob[sid] then sid = alias_idx[sid] end
  local store = stores[sid]
  local customer = customers[sid][random(cps)]

  -- basket of 1..4 distinct products
  local r = random(100)
  local n = 1
  while r > NPROD_CUT[n] do n = n + 1 end

  local i1 = random(n_items)
  local q1 = random(3)
  local cents = item_cents[i1] * q1
  local products
  if n == 1 then
    products = { items[i1][q1] }
  else
    local i2 = random(n_items)
    while i2 == i1 do i2 = random(n_items) end
    local q2 = random(3)
    cents = cents + item_cents[i2] * q2
    if n == 2 then
      products = { items[i1][q1], items[i2][q2] }
    else
      local i3 = random(n_items)
      while i3 == i1 or i3 == i2 do i3 = random(n_items) end
      local q3 = random(3)
      cents = cents + item_cents[i3] * q3
      if n == 3 then
        products = { items[i1][q1], items[i2][q2], items[i3][q3] }
      else
        local i4 = random(n_items)
        while i4 == i1 or i4 == i2 or i4 == i3 do i4 = random(n_items) end
        local q4 = random(3)
        cents = cents + item_cents[i4] * q4
        products = { items[i1][q1], items[i2][q2], items[i3][q3], items[i4][q4] }
      end
    end
  end

  return {
    id = format("%s%d", id_prefix, seq),
    created_ms = now_ms,
    dateTime = iso_ms(now_ms),
    store = store,
    customer = customer,
    products = products,
    total = cents / 100,
  }
end
