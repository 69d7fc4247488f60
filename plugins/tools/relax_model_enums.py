"""Rewrite an OpenAPI document so that request `model` fields accept any name.

The server's document lists the original project's model names in an enum,
but the models a server runs come from its catalogue and are listed at
runtime by `GET /api/{domain}/models` (for example `sd-1.5`). A client
generated with that enum raises ValueError before sending such a name, so the
plug-ins' client is generated from a copy without it.

Usage: relax_model_enums.py INPUT OUTPUT
"""

import json
import sys


def relax(document):
    """Remove the enum of every `model` property of the request schemas."""
    schemas = document.get("components", {}).get("schemas", {})
    relaxed = []
    for name, schema in schemas.items():
        model = schema.get("properties", {}).get("model")
        if not name.endswith("Request") or model is None or "enum" not in model:
            continue
        del model["enum"]
        model["description"] = (
            model.get("description", "Name of the model")
            + ". Any name the server lists is accepted."
        )
        relaxed.append(name)
    return relaxed


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: relax_model_enums.py INPUT OUTPUT")
    with open(sys.argv[1], encoding="utf-8") as source:
        document = json.load(source)
    relaxed = relax(document)
    if not relaxed:
        sys.exit("error: no request schema with a model enum found in " + sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as target:
        json.dump(document, target, indent=2, ensure_ascii=False)
        target.write("\n")
    print("relaxed the model enum of " + ", ".join(relaxed), file=sys.stderr)


if __name__ == "__main__":
    main()
