--[[
perinatal-csc manuscript filter (built-in render path; Quarto does the same work itself).

Runs BEFORE --citeproc. It
  1. numbers fig-/tbl- floats (Divs, or pandoc Figures, whose id starts with fig- or tbl-) in
     document order and prefixes their captions with "Figure N: " / "Table N: ";
  2. for every format but HTML, turns great-tables HTML (a raw HTML block) into a real pandoc table,
     so Word and Typst get native tables; HTML keeps the great-tables markup as it is;
  3. replaces @fig-x / @tbl-x by "Figure N" / "Table N" (a link where the format supports it);
  4. fails the render on any cross-reference or citation that does not resolve.
]]

local KIND = { fig = "Figure", tbl = "Table" }
local is_html = FORMAT:match("html") ~= nil
local is_typst = FORMAT:match("typst") ~= nil
local numbers = {}
local counters = { fig = 0, tbl = 0 }
local errors = {}

local function kind_of(id)
  local k = id and id:match("^(%a+)%-")
  if k and KIND[k] then return k end
  return nil
end

local function caption_prefix(k, n)
  return KIND[k] .. " " .. n .. ": "
end

local function prefixed(k, n, inlines)
  local out = pandoc.Inlines({ pandoc.Str(caption_prefix(k, n)) })
  out:extend(inlines or {})
  return out
end

-- The caption of a float Div is its last paragraph (Quarto's convention).
local function split_caption(div)
  local blocks = div.content
  local last = blocks[#blocks]
  if last and (last.t == "Para" or last.t == "Plain") and #blocks > 1 then
    local body = pandoc.Blocks({})
    for i = 1, #blocks - 1 do body:insert(blocks[i]) end
    return body, last.content
  end
  return blocks, pandoc.Inlines({})
end

local function html_table(blocks)
  for _, b in ipairs(blocks) do
    if b.t == "RawBlock" and b.format:match("html") and b.text:match("<table") then
      local doc = pandoc.read(b.text, "html")
      for _, x in ipairs(doc.blocks) do
        if x.t == "Table" then return x end
        if x.t == "Div" then
          for _, y in ipairs(x.content) do
            if y.t == "Table" then return y end
          end
        end
      end
    end
    if b.t == "Table" then return b end
  end
  return nil
end

local function number(id)
  local k = kind_of(id)
  if not k then return nil end
  if numbers[id] then
    table.insert(errors, "duplicate label '" .. id .. "'")
    return nil
  end
  counters[k] = counters[k] + 1
  numbers[id] = { kind = k, n = counters[k] }
  return k, counters[k]
end

local function float_div(div)
  local k, n = number(div.identifier)
  if not k then return nil end
  local body, cap = split_caption(div)
  local cap_inlines = prefixed(k, n, cap)
  if k == "tbl" then
    if not is_html then
      local tbl = html_table(body)
      if tbl then
        tbl.caption = { long = { pandoc.Plain(cap_inlines) } }
        tbl.attr = pandoc.Attr(div.identifier, {}, {})
        return tbl
      end
    end
    local caption = pandoc.Div({ pandoc.Para(cap_inlines) }, pandoc.Attr("", { "table-caption" }))
    local out = pandoc.Blocks({ caption })
    out:extend(body)
    return pandoc.Div(out, pandoc.Attr(div.identifier, { "table-float" }, {}))
  end
  -- figure
  local imgs = pandoc.Blocks({})
  for _, b in ipairs(body) do
    if b.t == "Figure" then imgs:extend(b.content) else imgs:insert(b) end
  end
  return pandoc.Figure(imgs, { long = { pandoc.Plain(cap_inlines) } }, pandoc.Attr(div.identifier, {}, {}))
end

local function float_figure(fig)
  local k, n = number(fig.identifier)
  if not k then return nil end
  local cap = pandoc.Inlines({})
  for _, b in ipairs(fig.caption.long or {}) do cap:extend(b.content or {}) end
  fig.caption = { long = { pandoc.Plain(prefixed(k, n, cap)) } }
  return fig
end

local function callout(div)
  local cls = nil
  for _, c in ipairs(div.classes) do
    if c:match("^callout") then cls = c end
  end
  if not cls or is_html then return nil end
  -- Word and Typst have no callouts: a titled, indented block keeps the message visible.
  local out = pandoc.Blocks({})
  for _, b in ipairs(div.content) do
    if b.t == "Header" then out:insert(pandoc.Para({ pandoc.Strong(b.content) }))
    else out:insert(b) end
  end
  return pandoc.BlockQuote(out)
end

local function ref_text(id, suppress)
  local r = numbers[id]
  if not r then return nil end
  if suppress then return tostring(r.n) end
  return KIND[r.kind] .. " " .. r.n
end

local function resolve_cite(cite)
  local parts = pandoc.Inlines({})
  local any_ref = false
  for i, c in ipairs(cite.citations) do
    if kind_of(c.id) or c.id:match("^sec%-") then
      any_ref = true
      local txt = ref_text(c.id, c.mode == "SuppressAuthor")
      if not txt then
        table.insert(errors, "unresolved cross-reference '@" .. c.id .. "'")
        txt = "?"
      end
      if i > 1 then parts:insert(pandoc.Str("; ")) end
      parts:extend(c.prefix or {})
      if is_typst then parts:insert(pandoc.Str(txt))
      else parts:insert(pandoc.Link(txt, "#" .. c.id)) end
      parts:extend(c.suffix or {})
    end
  end
  if any_ref then return parts end
  return nil
end

function Pandoc(doc)
  doc = doc:walk({
    traverse = "topdown",
    Div = function(div)
      local f = float_div(div)
      if f then return f end
      return callout(div)
    end,
    Figure = function(fig)
      if kind_of(fig.identifier) then return float_figure(fig) end
    end,
  })
  doc = doc:walk({ Cite = resolve_cite })
  local cited = {}
  doc:walk({
    Cite = function(c)
      for _, x in ipairs(c.citations) do cited[x.id] = true end
    end,
  })
  local known = {}
  local ok, refs = pcall(pandoc.utils.references, doc)
  if ok and refs then
    for _, r in ipairs(refs) do known[r.id] = true end
  end
  for id, _ in pairs(cited) do
    if not known[id] then table.insert(errors, "unresolved citation '@" .. id .. "' (not in the bibliography)") end
  end
  if #errors > 0 then
    table.sort(errors)
    error("perinatal-csc: " .. table.concat(errors, "; "))
  end
  return doc
end
