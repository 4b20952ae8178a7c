--[[
perinatal-csc manuscript filter, declared in _quarto.yml, so both renderers run it. On the built-in
path it does all of the following; under Quarto (which numbers and cross-references floats itself)
only step 2.

Runs BEFORE --citeproc. It
  1. numbers fig-/tbl- floats (Divs, or pandoc Figures, whose id starts with fig- or tbl-) in
     document order and prefixes their captions with "Figure N: " / "Table N: ";
  2. for every format but HTML, turns great-tables HTML (a raw HTML block) into a real pandoc table,
     so Word and Typst get native tables; HTML keeps the great-tables markup as it is. The table
     spans the text width (column widths from content length), the stub column is left-aligned and
     the others follow great-tables' gt_left/gt_right/gt_center classes, header and row-group
     heading text is bold, gt_indent_N cells keep their indent as em spaces, and the source notes
     (the table foot) become small paragraphs under the table;
  3. replaces @fig-x / @tbl-x by "Figure N" / "Table N" (a link where the format supports it);
  4. fails the render on any cross-reference or citation that does not resolve.
]]

local KIND = { fig = "Figure", tbl = "Table" }
-- Under Quarto (declared in _quarto.yml's filters) Quarto numbers, captions and cross-references the
-- floats itself; this filter then only turns great-tables HTML into native Word and Typst tables.
local under_quarto = type(quarto) == "table" and quarto.doc ~= nil
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

local GT_ALIGN = { gt_left = pandoc.AlignLeft, gt_right = pandoc.AlignRight, gt_center = pandoc.AlignCenter }
local EM_SPACE = "\u{2003}"
local WIDTH_CAP = 36   -- characters: a longer text wraps rather than taking more width
local WIDTH_MIN = 5
local WIDTH_PAD = 3   -- characters of room for the cell margins
local BOLD = 1.15     -- a bold header word is wider than its character count
-- characters of table text across the text width: Word 9 pt sans serif, Typst 8.5 pt serif
local LINE_CHARS = is_typst and 125 or 100
-- a table this wide goes on landscape pages (Typst here; Word in render/word.py, WIDE_COLUMNS there)
local WIDE_COLUMNS = 8
local LANDSCAPE = 1.5     -- landscape text width / portrait text width (A4, 2.2 cm margins)
local NBSP = "\u{00A0}"
-- A Typst table whose rows (wrapped lines counted) fit in this many lines moves whole to the next page,
-- caption and notes included; a longer one breaks across pages under its repeated header.
local UNBROKEN_LINES = 34          -- portrait: about 0.6 of the text height in single-line rows
local UNBROKEN_LINES_LANDSCAPE = 20
local NUMBER_CHARS = 20  -- a right-aligned or centred value up to this long ("5.38 (2.53 to 12.15)") is kept on one line
local NUMBER_WIDTH = 0.85  -- digits, brackets and stops are narrower than the average character of text

local function has_class(attr, cls)
  for _, c in ipairs(attr.classes) do
    if c == cls then return true end
  end
  return false
end

local function gt_align(attr)
  for _, c in ipairs(attr.classes) do
    if GT_ALIGN[c] then return GT_ALIGN[c] end
  end
  return nil
end

local function gt_indent(attr)
  for _, c in ipairs(attr.classes) do
    local n = c:match("^gt_indent_(%d+)$")
    if n then return tonumber(n) end
  end
  return 0
end

-- Each cell of `rows` with its first column (1-based), honouring row and column spans.
local function place(rows, ncols)
  local out, taken = {}, {}
  for r, row in ipairs(rows) do
    taken[r] = taken[r] or {}
    local col = 1
    for _, cell in ipairs(row.cells) do
      while taken[r][col] do col = col + 1 end
      table.insert(out, { row = r, col = col, cell = cell })
      for dr = 0, cell.row_span - 1 do
        taken[r + dr] = taken[r + dr] or {}
        for dc = 0, cell.col_span - 1 do taken[r + dr][col + dc] = true end
      end
      col = col + cell.col_span
    end
  end
  return out
end

local function text_len(cell)
  return utf8.len(pandoc.utils.stringify(cell.contents)) or 0
end

local function longest_word(cell)
  local n = 0
  for w in pandoc.utils.stringify(cell.contents):gmatch("%S+") do n = math.max(n, utf8.len(w) or #w) end
  return n
end

local function body_rows(tbl)
  local rows = {}
  for _, body in ipairs(tbl.bodies) do
    for _, r in ipairs(body.head) do table.insert(rows, r) end
    for _, r in ipairs(body.body) do table.insert(rows, r) end
  end
  return rows
end

local function bold(cell)
  cell.contents = cell.contents:walk({
    Plain = function(p) return pandoc.Plain({ pandoc.Strong(p.content) }) end,
    Para = function(p) return pandoc.Para({ pandoc.Strong(p.content) }) end,
  })
end

local function indent(cell, n)
  if n < 1 then return end
  local first = cell.contents[1]
  if first and (first.t == "Plain" or first.t == "Para") then
    first.content:insert(1, pandoc.Str(string.rep(EM_SPACE, n)))
  end
end

-- Column alignments, widths and cell emphasis of a table read from great-tables HTML.
-- Shares of the text width: each column gets room for its longest word (so no word is broken) and
-- the rest goes by text length, as a browser's automatic table layout does.
local function column_shares(least, want, line_chars, hard)
  local LINE_CHARS = line_chars
  local n, share = #want, {}
  local sum_least, sum_want, sum_hard = 0, 0, 0
  hard = hard or {}
  for c = 1, n do
    hard[c] = math.min(hard[c] or 0, least[c])
    sum_least, sum_want, sum_hard = sum_least + least[c], sum_want + want[c], sum_hard + hard[c]
  end
  if sum_least >= LINE_CHARS then
    -- too narrow for every cell's longest word: the header words (hard) stay whole, the rest is shared
    -- in proportion to what each column's body needs beyond them
    local spare, extra = math.max(LINE_CHARS - sum_hard, 0), sum_least - sum_hard
    for c = 1, n do
      if sum_hard < LINE_CHARS and extra > 0 then
        share[c] = (hard[c] + spare * (least[c] - hard[c]) / extra) / LINE_CHARS
      else
        share[c] = least[c] / sum_least
      end
    end
    return share
  end
  local fixed = {}
  for _ = 1, n do
    local free, free_want = 1, 0
    for c = 1, n do
      if fixed[c] then free = free - fixed[c] else free_want = free_want + want[c] end
    end
    local changed = false
    for c = 1, n do
      if not fixed[c] then
        share[c] = free * want[c] / free_want
        if share[c] < least[c] / LINE_CHARS then
          fixed[c], changed = least[c] / LINE_CHARS, true
        end
      end
    end
    if not changed then break end
  end
  for c = 1, n do share[c] = fixed[c] or share[c] end
  return share
end

-- Column alignments, widths and cell emphasis of a table read from great-tables HTML.
-- "N = 99" in a header is one unbreakable unit: "N", "=" and the number joined by no-break spaces.
local function keep_n_together(cell)
  cell.contents = cell.contents:walk({
    Inlines = function(ils)
      local out = pandoc.Inlines({})
      local i = 1
      while i <= #ils do
        local a, b, c, d, e = ils[i], ils[i + 1], ils[i + 2], ils[i + 3], ils[i + 4]
        if a.t == "Str" and a.text:match("N$") and b and b.t == "Space" and c and c.t == "Str" and c.text == "="
            and d and d.t == "Space" and e and e.t == "Str" and e.text:match("^%d") then
          out:insert(pandoc.Str(a.text .. NBSP .. "=" .. NBSP .. e.text))
          i = i + 5
        else
          out:insert(a)
          i = i + 1
        end
      end
      return out
    end,
  })
end

local function shape_table(tbl)
  local ncols = #tbl.colspecs
  local line_chars = LINE_CHARS * (ncols >= WIDE_COLUMNS and LANDSCAPE or 1)
  local rows = body_rows(tbl)
  local votes, least, want = {}, {}, {}
  for c = 1, ncols do votes[c], least[c], want[c] = {}, WIDTH_MIN, WIDTH_MIN end
  for _, p in ipairs(place(rows, ncols)) do
    local cell = p.cell
    if cell.col_span == ncols and ncols > 1 then
      bold(cell)
      cell.alignment = pandoc.AlignLeft
    elseif cell.col_span == 1 then
      local a = gt_align(cell.attr)
      if a then votes[p.col][a] = (votes[p.col][a] or 0) + 1 end
      indent(cell, gt_indent(cell.attr))
      local whole = a and a ~= pandoc.AlignLeft and text_len(cell) <= NUMBER_CHARS and NUMBER_WIDTH * text_len(cell)
      least[p.col] = math.max(least[p.col], whole or longest_word(cell))
      want[p.col] = math.max(want[p.col], math.min(text_len(cell), WIDTH_CAP))
    end
  end
  local hard = {}
  for c = 1, ncols do hard[c] = WIDTH_MIN end
  for _, p in ipairs(place(tbl.head.rows, ncols)) do
    keep_n_together(p.cell)
    bold(p.cell)
    if p.cell.col_span == 1 then
      least[p.col] = math.max(least[p.col], BOLD * longest_word(p.cell))
      hard[p.col] = math.max(hard[p.col], BOLD * longest_word(p.cell))
    else
      p.cell.alignment = pandoc.AlignCenter
    end
  end
  for c = 1, ncols do
    least[c] = least[c] + WIDTH_PAD
    hard[c] = hard[c] + WIDTH_PAD
    want[c] = math.max(want[c] + WIDTH_PAD, least[c])
  end
  local share = column_shares(least, want, line_chars, hard)
  for c = 1, ncols do
    local best, n = pandoc.AlignLeft, -1
    if c > 1 then
      for a, k in pairs(votes[c]) do
        if k > n then best, n = a, k end
      end
    end
    tbl.colspecs[c] = { best, share[c] }
  end
  for _, body in ipairs(tbl.bodies) do
    local merged = pandoc.List({})
    merged:extend(body.head)
    merged:extend(body.body)
    body.head, body.body = {}, merged
  end
  return tbl
end

-- The table foot (great-tables source notes) as paragraphs, removed from the table.
local function take_notes(tbl)
  local notes = pandoc.Blocks({})
  for _, row in ipairs(tbl.foot.rows) do
    for _, cell in ipairs(row.cells) do
      for _, b in ipairs(cell.contents) do
        if b.t == "Plain" or b.t == "Para" then notes:insert(pandoc.Para(b.content))
        elseif b.t == "Div" or b.t == "Span" then notes:extend(pandoc.Blocks({ pandoc.Para(pandoc.utils.blocks_to_inlines(b.content)) }))
        else notes:insert(b) end
      end
    end
  end
  tbl.foot = pandoc.TableFoot()
  return notes
end

local function header_rows(tbl)
  local n = 0
  for _, r in ipairs(tbl.head.rows) do
    local span = 1
    for _, c in ipairs(r.cells) do span = math.max(span, c.row_span) end
    n = math.max(n, span)
  end
  return math.max(n, #tbl.head.rows)
end

-- Lines a table takes when set: each row as many lines as its most wrapped cell, and its notes.
local function table_lines(tbl, notes)
  local ncols = #tbl.colspecs
  local line_chars = LINE_CHARS * (ncols >= WIDE_COLUMNS and LANDSCAPE or 1)
  local width = {}
  for c = 1, ncols do width[c] = math.max(1, (tbl.colspecs[c][2] or (1 / ncols)) * line_chars - WIDTH_PAD) end
  local lines = header_rows(tbl)
  local per_row = {}
  for _, p in ipairs(place(body_rows(tbl), ncols)) do
    per_row[p.row] = math.max(per_row[p.row] or 1, math.ceil(text_len(p.cell) / (width[p.col] * p.cell.col_span)))
  end
  for _, n in pairs(per_row) do lines = lines + n end
  local note_chars = utf8.len(pandoc.utils.stringify(notes)) or 0
  return lines + math.ceil(note_chars * 0.8 / line_chars) + #notes
end

-- Typst: the caption sticks to the table's first rows (header.typ), a first header row says
-- "Table N (continued)" on every page but the first, the notes are the table's last row (so they
-- are never split from it or across pages), and a wide table gets landscape pages.
-- Under Quarto a short table's float is kept whole by a rule set around it (see quarto_tables).
local UNBROKEN_MARK = "// perinatal-csc: keep this table's float whole"

-- Rows that a page break must not separate: one full-width cell holding a table of those rows with the
-- same column widths, followed by ``after`` (the notes), so Typst moves them as one unbreakable row.
local KEEP_ROWS = 3

local function kept_together(rows, tbl, after)
  -- the inner table has an empty header row of zero height: a tagged table needs header cells (PDF/UA),
  -- and the rows' own headings are the outer table's, which the page shows
  local cells = pandoc.List()
  for _ = 1, #tbl.colspecs do
    cells:insert(pandoc.Cell({}, pandoc.AlignLeft, 1, 1, pandoc.Attr("", {}, { ["typst:inset"] = "0pt" })))
  end
  local inner = pandoc.Table({ long = {} }, tbl.colspecs, pandoc.TableHead({ pandoc.Row(cells) }),
    { { attr = pandoc.Attr(), body = rows, head = pandoc.List(), row_head_columns = 0 } }, pandoc.TableFoot(), pandoc.Attr())
  local content = pandoc.Blocks({ pandoc.RawBlock("typst", "#set table(stroke: none)\n#set table.hline(stroke: none)\n" ..
    "#show table.cell: set align(top)"), inner })
  content:extend(after or {})
  return pandoc.Row({ pandoc.Cell(content, pandoc.AlignLeft, 1, #tbl.colspecs,
    pandoc.Attr("", {}, { ["typst:inset"] = "0pt" })) })
end

local function typst_table(tbl, id, cap_inlines, notes, number)
  local ncols = #tbl.colspecs
  local limit = ncols >= WIDE_COLUMNS and UNBROKEN_LINES_LANDSCAPE or UNBROKEN_LINES
  local unbroken = table_lines(tbl, notes) <= limit
  local heads = header_rows(tbl)
  if id ~= "" and number then
    -- under Quarto the number is that of Quarto's figure labelled `id`
    local shown = under_quarto and ('#counter(figure.where(kind: "quarto-float-tbl")).at(<' .. id .. '>).first()')
      or tostring(number)
    -- (Quarto's figure is located where it ends, so there the table's own start is marked)
    local start = under_quarto and (id .. "-start") or id
    local label = "#context { if here().page() > locate(<" .. start .. ">).page() [#emph[" .. KIND.tbl .. " " .. shown ..
      " (continued)]] }"
    local cell = pandoc.Cell({ pandoc.Plain({ pandoc.RawInline("typst", label) }) }, pandoc.AlignLeft, 1, ncols,
      pandoc.Attr("", {}, { { "typst:inset", "(x: 0pt, top: 0pt, bottom: 3pt)" }, { "typst:stroke", "none" } }))
    tbl.head.rows:insert(1, pandoc.Row({ cell }))
    heads = heads + 1
  end
  local first = (id ~= "" and number) and 1 or 0
  local rows = tbl.bodies[#tbl.bodies].body
  if not unbroken and #tbl.bodies == 1 and #rows > KEEP_ROWS + 1 then
    -- a table that breaks starts with at least KEEP_ROWS rows on its first page: never a caption and
    -- header with one row at a page foot
    local first_rows = pandoc.List()
    for _ = 1, KEEP_ROWS do first_rows:insert(rows:remove(1)) end
    rows:insert(1, kept_together(first_rows, tbl))
  end
  local nbody = #body_rows(tbl)
  if #notes > 0 then
    local content = pandoc.Blocks({ pandoc.RawBlock("typst", "#set text(size: 7.5pt)\n#set par(justify: false, spacing: 0.5em)") })
    content:extend(notes)
    if not unbroken and #tbl.bodies == 1 and #rows > 1 then
      -- the last row and the notes are one unbreakable row, so no page a table continues onto shows its
      -- header and notes alone (Typst's footer does not prevent that)
      local after = pandoc.Blocks({ pandoc.RawBlock("typst", "#block(above: 0pt, below: 5pt, line(length: 100%, stroke: 0.6pt))") })
      after:extend(content)
      rows:insert(kept_together(pandoc.List({ rows:remove(#rows) }), tbl, after))
    else
      local cell = pandoc.Cell(content, pandoc.AlignLeft, 1, ncols,
        pandoc.Attr("", {}, { { "typst:inset", "(x: 0pt, top: 5pt, bottom: 0pt)" }, { "typst:stroke", "(top: 0.6pt)" } }))
      rows:insert(pandoc.Row({ cell }))
    end
  end
  local rules = { "#[" }
  if under_quarto and id ~= "" and number then table.insert(rules, "#metadata(none) <" .. id .. "-start>") end
  local landscape = ncols >= WIDE_COLUMNS and not under_quarto   -- under Quarto: around its float instead
  if landscape then table.insert(rules, "#page(flipped: true)[") end
  table.insert(rules, "#set table(stroke: (x, y) => if y == " .. first .. " { (top: 0.8pt) })")
  for y = first, heads - 1 do
    table.insert(rules, "#show table.cell.where(y: " .. y .. "): set align(bottom)")
  end
  if unbroken then
    table.insert(rules, under_quarto and UNBROKEN_MARK or "#show figure.where(kind: table): set block(breakable: false, sticky: true)")
  end
  local out = pandoc.Blocks({ pandoc.RawBlock("typst", table.concat(rules, "\n")) })
  out:insert(tbl)
  out:insert(pandoc.RawBlock("typst", landscape and "]\n]" or "]"))
  return out
end

-- A native table plus its notes, laid out for Word or Typst.
local function native_table(tbl, id, cap_inlines, number)
  tbl = shape_table(tbl)
  local notes = take_notes(tbl)
  tbl.caption = #cap_inlines > 0 and { long = { pandoc.Plain(cap_inlines) } } or {}
  tbl.attr = pandoc.Attr(under_quarto and "" or id, {}, {})   -- under Quarto the id is its float's
  if is_typst then return typst_table(tbl, id, cap_inlines, notes, number) end
  local out = pandoc.Blocks({ tbl })
  if #notes > 0 then
    out:insert(pandoc.Div(notes, pandoc.Attr("", {}, { ["custom-style"] = "Table Note" })))
  end
  return out
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
      if tbl then return native_table(tbl, div.identifier, cap_inlines, n) end
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
  if not cls then return nil end
  if is_html then
    -- a callout's title is not a section: kept out of the contents, as Quarto makes it the callout's title
    for _, b in ipairs(div.content) do
      if b.t == "Header" and not b.classes:includes("unlisted") then b.classes:insert("unlisted") end
    end
    return div
  end
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

-- Under Quarto: the great-tables HTML of a table float becomes the float's native table, in Typst with
-- "Table N (continued)" on the pages it continues onto (Quarto numbers and captions the float).
local function quarto_float(float)
  if is_html or float.type ~= "Table" or not float.content then return nil end
  local content = float.content
  local blocks = pandoc.utils.type(content) == "Block" and pandoc.Blocks({ content }) or pandoc.Blocks(content)
  local tbl = nil
  blocks:walk({
    RawBlock = function(b)
      if not tbl then tbl = html_table({ b }) end
    end,
  })
  if not tbl then return nil end
  float.content = pandoc.Blocks(native_table(tbl, is_typst and float.identifier or "", pandoc.Inlines({}),
    is_typst and "quarto" or nil))
  return float
end

-- True when blocks hold a native table wide enough for landscape pages.
local function holds_wide_table(blocks)
  local wide = false
  pandoc.Blocks(blocks):walk({
    Table = function(t)
      if #t.colspecs >= WIDE_COLUMNS then wide = true end
    end,
  })
  return wide
end

-- Under Quarto a table is inside Quarto's float (a Typst figure), where a page setting is not
-- allowed: the landscape pages go around the whole float, which must stand at the top level.
local function quarto_tables(doc)
  if is_html then return doc end
  doc = doc:walk({
    RawBlock = function(b)
      local tbl = html_table({ b })
      if tbl then return native_table(tbl, "", pandoc.Inlines({})) end
    end,
  })
  if not is_typst then return doc end
  local blocks = pandoc.Blocks({})
  for _, b in ipairs(doc.blocks) do
    local whole = false
    pandoc.Blocks({ b }):walk({
      RawBlock = function(r)
        if r.text:find(UNBROKEN_MARK, 1, true) then whole = true end
      end,
    })
    local wide = holds_wide_table({ b })
    if wide then blocks:insert(pandoc.RawBlock("typst", "#page(flipped: true)[")) end
    if whole then
      blocks:insert(pandoc.RawBlock("typst",
        '#[\n#show figure.where(kind: "quarto-float-tbl"): set block(breakable: false, sticky: true)'))
    end
    blocks:insert(b)
    if whole then blocks:insert(pandoc.RawBlock("typst", "]")) end
    if wide then blocks:insert(pandoc.RawBlock("typst", "]")) end
  end
  doc.blocks = blocks
  return doc
end

local function meta_true(v)
  if v == nil then return false end
  if type(v) == "boolean" then return v end
  local t = pandoc.utils.stringify(v):lower()
  return t == "true" or t == "yes" or t == "1"
end

-- Accessible PDF (PDF/UA-1, see `pdf-standard` in _quarto.yml). Typst requires the first heading to be
-- of level 1, but the documents' sections are level 2 (the title is level 1 in HTML and Word): in Typst
-- every heading moves up by the same amount, and `heading_looks` gives the moved headings the size and
-- spacing Typst gives their original level, so the PDF looks as before.
local function heading_shift(doc)
  local top = nil
  doc:walk({
    Header = function(h)
      if not top or h.level < top then top = h.level end
    end,
  })
  return top and top > 1 and top - 1 or 0
end

local function shift_headings(doc, shift)
  if shift < 1 then return doc end
  return doc:walk({
    Header = function(h)
      h.level = h.level - shift
      return h
    end,
  })
end

-- Typst's own heading look (its heading show-set rule): text 1.4 times the body size at level 1, 1.2 at
-- level 2, 1 below; space above 1.8 (level 1) or 1.44 body ems, below 0.75, given in the heading's ems.
local function typst_heading_look(level)
  local scale = level == 1 and 1.4 or level == 2 and 1.2 or 1.0
  local above = level == 1 and 1.8 or 1.44
  return scale, above / scale, 0.75 / scale
end

local function heading_looks(shift)
  local rules = {}
  if shift < 1 then return rules end
  for level = 1, 2 do
    local scale, above, below = typst_heading_look(level + shift)
    local own = typst_heading_look(level)
    if scale ~= own then
      -- a text size in em is relative to the size Typst's own rule has already set (`own`)
      table.insert(rules, string.format(
        "#show heading.where(level: %d): set text(size: %.6gem)\n#show heading.where(level: %d): set block(above: %.6gem, below: %.6gem)",
        level, scale / own, level, above, below))
    end
  end
  return rules
end

-- A figure's text description (the cell's fig-alt, which HTML shows as the image's alt) reaches the PDF:
-- pandoc's Typst writer drops an image's description, so the built-in path writes the image itself;
-- under Quarto (which writes `image.attributes.alt`, 1.9 and later) the attribute is set when missing.
local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " "):gsub("\r", "") .. '"'
end

-- The built-in path's HTML shows the image's description (its inlines, typographic quotes and all);
-- Quarto's shows the cell's fig-alt.
local function image_alt(img)
  local own = pandoc.utils.stringify(img.caption)
  local given = img.attributes["fig-alt"] or img.attributes["alt"] or ""
  if under_quarto then return given ~= "" and given or own end
  return own ~= "" and own or given
end

local TYPST_LENGTH = "^%d*%.?%d+%s*[%a%%]+$"

local function typst_image(img)
  local args = { typst_string(img.src) }
  for _, k in ipairs({ "width", "height" }) do
    local v = img.attributes[k]
    if v then
      if not v:match(TYPST_LENGTH) then return nil end
      table.insert(args, k .. ": " .. v)
    end
  end
  local alt = image_alt(img)
  if alt ~= "" then table.insert(args, "alt: " .. typst_string(alt)) end
  return "image(" .. table.concat(args, ", ") .. ")"
end

local function typst_images(doc)
  if under_quarto then
    return doc:walk({
      Image = function(img)
        if not img.attributes["alt"] and image_alt(img) ~= "" then
          img.attributes["alt"] = image_alt(img)
          return img
        end
      end,
    })
  end
  local function alone(b)
    if #b.content == 1 and b.content[1].t == "Image" then
      local code = typst_image(b.content[1])
      if code then return pandoc.RawBlock("typst", "#" .. code) end
    end
  end
  return doc:walk({
    Plain = alone,
    Para = alone,
  }):walk({
    Image = function(img)
      local code = typst_image(img)
      if code then return pandoc.RawInline("typst", "#box(" .. code .. ")") end
    end,
  })
end

-- Typst set-up shared by both renderers, added to header-includes: table text and rules, captions
-- that stick to their tables, unjustified lists, the data notice as a running header, and in review
-- mode line numbers and double spacing.
local function typst_setup(meta, heading_shift)
  local notice = meta["data-notice"] and pandoc.utils.stringify(meta["data-notice"]) or ""
  notice = notice:gsub("[%[%]#\\]", "")
  local rules = {
    "#set text(hyphenate: false)",
    "#show table: set text(size: 8.5pt)",
    "#show table: set par(justify: false)",
    "#show list: set par(justify: false)",
    "#set table(inset: (x: 4pt, y: 3.5pt), stroke: (x, y) => if y == 0 { (top: 0.8pt) })",
    "#set table.hline(stroke: 0.6pt)",
    "#set table.cell(breakable: false)",
    "#show figure.where(kind: table): set block(breakable: true)",
    "#show figure.caption.where(kind: table): set align(left)",
    "#show figure.caption.where(kind: table): it => block(sticky: true, it)",
  }
  if not under_quarto then table.insert(rules, 1, "#set figure(numbering: none)") end
  if under_quarto then   -- Quarto's table floats are figures of their own kind
    table.insert(rules, '#show figure.where(kind: "quarto-float-tbl"): set block(breakable: true)')
    table.insert(rules, '#show figure.caption.where(kind: "quarto-float-tbl"): set align(left)')
    table.insert(rules, '#show figure.caption.where(kind: "quarto-float-tbl"): it => block(sticky: true, it)')
  end
  if notice ~= "" then
    table.insert(rules, '#set page(header: align(right, text(size: 8pt, fill: rgb("#8a0015"))[' .. notice .. ']))')
  end
  if meta_true(meta.review) then
    table.insert(rules, '#set par.line(numbering: n => text(size: 7pt, fill: luma(90))[#n], numbering-scope: "document")')
    table.insert(rules, "#set par(leading: 1.45em, spacing: 2em)")
  end
  for _, r in ipairs(heading_looks(heading_shift or 0)) do table.insert(rules, r) end
  return table.concat(rules, "\n")
end

-- Blind peer review: no authors, affiliations or acknowledgements.
local function blind(doc)
  for _, key in ipairs({ "author", "authors", "by-author", "affiliations", "by-affiliation", "institute" }) do
    doc.meta[key] = nil
  end
  local out = pandoc.Blocks({})
  local skipping = nil
  for _, b in ipairs(doc.blocks) do
    if b.t == "Header" then
      if skipping and b.level <= skipping then skipping = nil end
      if not skipping and (b.identifier:match("acknowledg") or pandoc.utils.stringify(b):lower():match("^acknowledg")) then
        skipping = b.level
      end
    end
    if not skipping and not (b.t == "Div" and (b.identifier:match("acknowledg") or has_class(b.attr, "acknowledgements"))) then
      out:insert(b)
    end
  end
  doc.blocks = out
  return doc
end

-- Words a journal counts: prose only. Tables, figures, their text descriptions, code, raw output and
-- citations are left out.
local function words_in(blocks)
  local n = 0
  local function count(b)
    if b.t == "Para" or b.t == "Plain" or b.t == "Header" or b.t == "LineBlock" then
      -- a cross-reference Quarto has yet to resolve counts as what it becomes ("Table 4", "4");
      -- a citation and a footnote do not count
      local function cite(c)
        local words = {}
        for _, x in ipairs(c.citations) do
          if not (kind_of(x.id) or x.id:match("^sec%-")) then return {} end
          table.insert(words, x.mode == "SuppressAuthor" and "N" or "Ref N")
        end
        return pandoc.Str(table.concat(words, " "))
      end
      local text = pandoc.utils.stringify(b:walk({ Cite = cite, Note = function() return {} end }))
      if text:match("^Text description of") then return end
      for w in text:gmatch("%S+") do
        if w:match("%w") then n = n + 1 end
      end
    elseif b.t == "BulletList" or b.t == "OrderedList" then
      for _, item in ipairs(b.content) do
        for _, x in ipairs(item) do count(x) end
      end
    elseif b.t == "BlockQuote" then
      for _, x in ipairs(b.content) do count(x) end
    elseif b.t == "Div" then
      local float = b.attributes and b.attributes.__quarto_custom_type == "FloatRefTarget"   -- Quarto's floats
      local note = b.attributes and b.attributes["custom-style"] == "Table Note"   -- a table's notes
      if not (float or note or b.identifier:match("^tbl%-") or b.identifier:match("^fig%-") or b.identifier == "refs") then
        for _, x in ipairs(b.content) do count(x) end
      end
    end
  end
  for _, b in ipairs(blocks) do count(b) end
  return n
end

-- The blocks from the header with id `from` up to (not including) the next header of level <= `stop_level`
-- (any header when `stop_level` is nil) or the header with id `until_id`.
local function span(blocks, from, stop_level, until_id)
  local out, on, level = pandoc.Blocks({}), false, nil
  for _, b in ipairs(blocks) do
    if b.t == "Header" then
      if on and (b.identifier == until_id or (until_id == nil and (stop_level == nil or b.level <= stop_level))) then
        break
      end
      if b.identifier == from then on, level = true, b.level end
    end
    if on then out:insert(b) end
  end
  return out, on
end

-- Fill the `#keywords` and `#word-counts` divs of the title page (both renderers).
local function title_page(doc)
  local abstract, has_abstract = span(doc.blocks, "sec-abstract", nil, nil)
  local main, has_main = span(doc.blocks, "sec-introduction", nil, "sec-declarations")
  if not has_main then main, has_main = span(doc.blocks, "sec-introduction", nil, "sec-references") end
  local kw = doc.meta.keywords or doc.meta["title-keywords"]
  return doc:walk({
    Div = function(d)
      if d.identifier == "keywords" and kw and not (under_quarto and is_html) then   -- Quarto's HTML title block has them
        local items = {}
        for _, k in ipairs(pandoc.utils.type(kw) == "List" and kw or { kw }) do
          table.insert(items, pandoc.utils.stringify(k))
        end
        return pandoc.Div({ pandoc.Para({ pandoc.Strong({ pandoc.Str("Keywords:") }), pandoc.Space(),
          pandoc.Str(table.concat(items, "; ")) }) }, d.attr)
      end
      if d.identifier == "word-counts" and has_abstract and has_main then
        -- the abstract's own heading is not counted; the main text's headings are
        local a = words_in(abstract) - words_in({ abstract[1] })
        return pandoc.Div({ pandoc.Para({ pandoc.Strong({ pandoc.Str("Word counts:") }), pandoc.Space(),
          pandoc.Str("abstract " .. a .. " words (its text); main text " .. words_in(main) ..
            " words (Introduction to the end of the Discussion, without tables, figures, figure descriptions and references).") }) }, d.attr)
      end
    end,
  })
end

-- Under Quarto, Word's title page (pandoc's "Author" paragraphs) shows names only: give each author
-- "Name (affiliations)" as the built-in path does.
local function word_authors(meta)
  local authors = meta["by-author"]
  if not (under_quarto and FORMAT:match("docx") and authors) then return end
  local list = pandoc.List({})
  for _, a in ipairs(authors) do
    local name = pandoc.utils.stringify(a.name and (a.name.literal or a.name) or "")
    local affs = {}
    for _, x in ipairs(a.affiliations or {}) do
      local n = pandoc.utils.stringify(x.name or "")
      if n ~= "" then table.insert(affs, n) end
    end
    local text = #affs > 0 and (name .. " (" .. table.concat(affs, "; ") .. ")") or name
    list:insert(pandoc.MetaInlines({ pandoc.Str(text) }))
  end
  meta.author = list
end

local function finish(doc)
  word_authors(doc.meta)
  doc = title_page(doc)
  if meta_true(doc.meta.blind) then doc = blind(doc) end
  if is_typst then
    local shift = heading_shift(doc)
    doc = typst_images(shift_headings(doc, shift))
    local includes = doc.meta["header-includes"]
    local list = pandoc.List({})
    if includes then
      if pandoc.utils.type(includes) == "List" then list:extend(includes) else list:insert(includes) end
    end
    list:insert(pandoc.MetaBlocks({ pandoc.RawBlock("typst", typst_setup(doc.meta, shift)) }))
    doc.meta["header-includes"] = list
  end
  return doc
end

-- A document's own caption prefixes (the supplement's "Supplementary Table"), as Quarto reads them.
local function crossref_titles(meta)
  local cr = meta.crossref
  if type(cr) ~= "table" then return end
  for k, key in pairs({ tbl = "tbl-title", fig = "fig-title" }) do
    if cr[key] then KIND[k] = pandoc.utils.stringify(cr[key]) end
  end
end

function Pandoc(doc)
  if under_quarto then return finish(quarto_tables(doc)) end
  crossref_titles(doc.meta)
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
  return finish(doc)
end

-- Pandoc runs these in order; only Quarto has FloatRefTarget nodes (its floats), and `crossref_titles`
-- reads the document's own caption prefixes before them.
-- Quarto's callouts (its custom nodes) become the same titled, indented block as on the built-in path.
local function quarto_callout(c)
  if is_html then return nil end
  local out = pandoc.Blocks({})
  if c.title then out:insert(pandoc.Para({ pandoc.Strong(pandoc.utils.type(c.title) == "Inlines" and c.title
    or pandoc.utils.blocks_to_inlines(pandoc.Blocks(c.title))) })) end
  local content = c.content
  out:extend(pandoc.utils.type(content) == "Block" and { content } or content)
  return pandoc.BlockQuote(out)
end

return {
  { Meta = function(meta) crossref_titles(meta) end },
  { FloatRefTarget = quarto_float, Callout = quarto_callout },
  { Pandoc = Pandoc },
}
