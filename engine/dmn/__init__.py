"""DMN in and out: `tenet dmn import` (``engine.dmn.importer``) makes a ruleset of a DMN 1.1 to
1.5 model; `tenet dmn export` (``engine.dmn.exporter``) writes a ruleset's tables, lets and outputs
as a DMN 1.3 model. FEEL is read by ``engine.dmn.feel``, the XML by ``engine.dmn.model``."""
