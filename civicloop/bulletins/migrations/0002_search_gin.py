"""PostgreSQL only: the items' search vector as a stored generated column over their
search tokens, with a GIN index (other databases search through SearchGram rows; see
bulletins/search.py). Stored, so a query ranks matches without re-parsing their text."""

from typing import Any

from django.db import migrations

INDEX = "bulletin_item_search_gin"
CREATE = (
    "ALTER TABLE bulletins_item ADD COLUMN IF NOT EXISTS search_vector tsvector "
    "GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'B')) STORED",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON bulletins_item USING GIN (search_vector)",
)
DROP = (
    f"DROP INDEX IF EXISTS {INDEX}",
    "ALTER TABLE bulletins_item DROP COLUMN IF EXISTS search_vector",
)


def _create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def _drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0001_initial")]

    operations = [migrations.RunPython(_create, _drop)]
