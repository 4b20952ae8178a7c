"""Review stage: co-authors' Word drafts back to the sources, and what changed between drafts.

``draft`` reads a reviewed DOCX (comments, tracked insertions, deletions and moves, as Word and
LibreOffice write them); ``sources`` maps rendered paragraphs to the ``.qmd`` lines they came from;
``importer`` classifies each comment and change (prose, or text the data computes) and writes the
review report, and applies prose changes on request; ``changes`` writes a draft with the differences
from an earlier one as real tracked changes.
"""
