"""How dates and times print when a page does not give a format itself: 2026-12-04 16:30 in
either language, as every page that does give one writes it. Django's defaults differ per
language (2026年12月4日 16:30, Dec. 4, 2026, 4:30 p.m.), so backend columns and fields left
to them sat beside explicitly formatted ones in another style. Only the output formats are
set here; what a form accepts stays Django's per language."""
