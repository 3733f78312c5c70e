"""Drop the single-column order_id indexes of order lines and log entries.

The unique (order, line_no) and (order, seq) indexes start with order_id and serve every
look-up by order, so the plain ones only cost a write per row. Only the index goes: the
foreign key stays. The model state says `db_index=False`; the database change is a plain
DROP INDEX found by introspection, because SQLite would otherwise copy both tables.
"""

from django.db import migrations, models
import django.db.models.deletion

TABLES = ("orders_orderline", "orders_operationlog")


def _plain_order_id_indexes(schema_editor, table):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, c in constraints.items()
        if c["index"] and not c["unique"] and not c["primary_key"] and c["columns"] == ["order_id"]
    ]


def drop_indexes(apps, schema_editor):
    for table in TABLES:
        for name in _plain_order_id_indexes(schema_editor, table):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_indexes(apps, schema_editor):
    for model_name, table in zip(("orderline", "operationlog"), TABLES, strict=True):
        if not _plain_order_id_indexes(schema_editor, table):
            model = apps.get_model("orders", model_name)
            field = model._meta.get_field("order")
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0007_partial_order_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="operationlog",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="log",
                        to="orders.order",
                    ),
                ),
                migrations.AlterField(
                    model_name="orderline",
                    name="order",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="orders.order",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
        ),
    ]
