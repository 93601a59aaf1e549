"""schemathesis hooks for scripts/check_openapi.py: what the document says in words and
OpenAPI cannot say in its own terms.

- A secret's `{path}` spans segments: it is sent with a literal `/` between them (the
  document says so; an encoded `%2F` is refused with 422, by design). OpenAPI has no
  multi-segment path parameter, so schemathesis percent-encodes the `/`; the hook puts it
  back, as a client following the description does.
- A listing's `cursor` is opaque: only a `next_cursor` the server made for that listing is
  accepted, and a made-up one is refused with 400 (as documented). Schema-valid
  (positive) cases leave it out; negative cases still send made-up ones.
"""
import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.transport.serialization import EncodedPath

SECRET_ROUTES = ("/v1/secrets/{path}", "/v1/metadata/{path}")


@schemathesis.hook
def before_call(context, case, kwargs):
    """Runs before every request, whatever the phase (examples, coverage, fuzzing,
    stateful)."""
    if case.operation.path in SECRET_ROUTES and isinstance(case.path_parameters, dict):
        value = case.path_parameters.get("path")
        if isinstance(value, str) and "%2F" in value:
            case.path_parameters["path"] = EncodedPath(value.replace("%2F", "/"))
    meta = case.meta
    positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
    if positive and isinstance(case.query, dict) and "cursor" in case.query:
        del case.query["cursor"]


def _robust_descriptions():
    """Work around CPython 3.11's "AST constructor recursion depth mismatch" (gh-106905,
    fixed in 3.12): hypothesis parses a module's source to describe a lambda in a
    strategy's repr, and on Debian 12's Python that parse can raise for schemathesis's own
    large modules, ending the run with an error unrelated to the API. The description is
    only text for reports; fall back to the function's name."""
    from hypothesis.internal import reflection
    from hypothesis.strategies._internal import lazy

    original = reflection.get_pretty_function_description

    def describe(f):
        try:
            return original(f)
        except SystemError:
            return getattr(f, "__name__", "<function>")

    reflection.get_pretty_function_description = describe
    lazy.get_pretty_function_description = describe


_robust_descriptions()
