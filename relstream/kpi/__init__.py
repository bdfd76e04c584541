"""Pure KPI math (SPEC §4): one module per widget family, `document.build_document` assembles them."""
