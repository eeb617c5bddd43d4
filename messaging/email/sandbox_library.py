"""The only tags and filters an e-mail template can use: Django's own, chosen one by one.

Left out on purpose: `load`, `include`, `extends`, `block` (other files), `url`,
`csrf_token`, `debug` (what the server knows), `safe`/`safeseq` (a contact's text must stay
escaped in HTML), `pprint` (object internals), `ljust`/`rjust`/`center` and `floatformat`
and `stringformat`
(sizes chosen by the template: output or work without bound), `dictsort*` and `filter`
(reach into values by name), `widthratio` (arithmetic on anything).
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

ALLOWED_TAGS = ("if", "for", "with", "firstof", "cycle", "comment", "spaceless", "now", "verbatim")
ALLOWED_FILTERS = (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatewords",
    "truncatechars",
    "length",
    "first",
    "last",
    "join",
    "yesno",
    "pluralize",
    "linebreaksbr",
    "linebreaks",
    "escape",
    "urlencode",
    "cut",
    "add",
    "date",
    "time",
    "striptags",
    "wordcount",
    "slugify",
    "divisibleby",
    "iriencode",
)

for _name in ALLOWED_TAGS:
    register.tag(_name, defaulttags.register.tags[_name])

for _name in dict.fromkeys(ALLOWED_FILTERS):
    register.filter(_name, defaultfilters.register.filters[_name])
