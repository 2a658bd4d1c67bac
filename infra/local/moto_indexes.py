"""Queries on a global secondary index at AWS's cost: proportional to the queried partition, not to the table.

moto 5.2's `Table.query` answers a Query on an index by walking and sorting `all_items()`, the WHOLE table, on every
call: a daily job reading its `DUE#<job>#<day>` partition of GSI3 slows down tenfold when the table holds ten times
more unrelated items (an export measured 53 s for 20 index queries). On AWS the cost is that of the partition.

This keeps, per moto table and per GSI with one hash attribute, the keys of the items under each hash value. It is
built on the first GSI query of a table (one pass over it), then kept current by the write paths: `Table.put_item` and
`Table.delete_item` (every put and delete of moto goes through them: PutItem, BatchWriteItem, TransactWriteItems,
PartiQL, imports) and `DynamoDBBackend.update_item` (the one that changes items in place). A table whose `items` were
replaced, or whose GSIs changed, is indexed again; tables deleted or reset (`/moto-api/reset`) take their index along.

A GSI Query whose key condition names the index's hash attribute then runs moto's own code with `all_items()`
answering only that partition's items, in moto's order: the hash condition, sort, range key conditions, pagination
(ExclusiveStartKey, LastEvaluatedKey, Limit, the 1 MB page), Count/ScannedCount, projections, FilterExpression and
ScanIndexForward stay moto's. The partition is a superset of the items moto keeps (moto still checks every key
condition), so the answers are moto's, item for item. Anything else (table queries, LSIs, scans, multi-attribute hash
keys, a hash value moto cannot hash) goes to moto unchanged. Tested in tests/integration/test_moto_indexes.py.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

INSTALLED = "_passculture_indexes"

ItemKey = tuple[Any, Any]  # (hash key, range key or None): moto's DynamoType values, as the table stores them

_lock = threading.RLock()  # the embedded server serializes requests already; in-process callers may not
_local = threading.local()  # .restriction: (table, items) that the next `all_items()` of that table answers
_bypass = 0


@dataclass
class _TableIndex:
    items: Any  # the table's `items` mapping this was built from: another one means the table was replaced
    attributes: dict[str, str]  # GSI name → its hash attribute
    partitions: dict[str, dict[Hashable, dict[ItemKey, None]]] = field(default_factory=dict)
    placed: dict[ItemKey, dict[str, Hashable]] = field(default_factory=dict)  # item → GSI name → its hash value

    def place(self, item: Any) -> None:
        key: ItemKey = (item.hash_key, item.range_key)
        values: dict[str, Hashable] = {}
        for name, attribute in self.attributes.items():
            value = _value_key(item.attrs.get(attribute))
            if value is not None:
                self.partitions[name].setdefault(value, {})[key] = None
                values[name] = value
        if values:
            self.placed[key] = values

    def remove(self, key: ItemKey) -> None:
        for name, value in self.placed.pop(key, {}).items():
            partition = self.partitions[name].get(value)
            if partition is not None:
                partition.pop(key, None)
                if not partition:
                    del self.partitions[name][value]


_indexes: weakref.WeakKeyDictionary[Any, _TableIndex] = weakref.WeakKeyDictionary()  # moto table → its index


def install() -> None:
    """Idempotent; affects moto in this process (in-process `mock_aws` and the embedded server alike)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    with _lock:
        if getattr(Table, INSTALLED, False):
            return
        setattr(Table, "query", _query(Table.query))  # noqa: B010 - moto's methods, replaced on purpose
        setattr(Table, "all_items", _all_items(Table.all_items))  # noqa: B010
        setattr(Table, "put_item", _put_item(Table.put_item))  # noqa: B010
        setattr(Table, "delete_item", _delete_item(Table.delete_item))  # noqa: B010
        setattr(DynamoDBBackend, "update_item", _update_item(DynamoDBBackend.update_item))  # noqa: B010
        setattr(Table, INSTALLED, True)


@contextmanager
def bypassed() -> Iterator[None]:
    """GSI queries walk the whole table again, as stock moto does (the index is still maintained): for comparisons."""
    global _bypass
    with _lock:
        _bypass += 1
    try:
        yield
    finally:
        with _lock:
            _bypass -= 1


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        partition = _partition(table, arguments.get("index_name"), arguments.get("hash_key_conditions"))
        if partition is None:
            return original(table, *args, **kwargs)
        _local.restriction = (table, partition)
        try:
            return original(table, *args, **kwargs)
        finally:
            _local.restriction = None

    return query


def _all_items(original: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    @functools.wraps(original)
    def all_items(table: Any) -> list[Any]:
        restriction = getattr(_local, "restriction", None)
        if restriction is not None and restriction[0] is table:
            _local.restriction = None  # only the index walk of the query that set it
            items: list[Any] = restriction[1]
            return items
        return original(table)

    return all_items


def _table_write(
    original: Callable[..., Any], key_of: Callable[[Any, inspect.BoundArguments], ItemKey]
) -> Callable[..., Any]:
    """`Table.put_item` / `Table.delete_item`, followed by re-indexing the item they wrote."""
    signature = inspect.signature(original)

    @functools.wraps(original)
    def write(table: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(table, *args, **kwargs)
        finally:
            if table in _indexes:
                _refresh(table, lambda: key_of(table, signature.bind(table, *args, **kwargs)))

    return write


def _put_item(original: Callable[..., Any]) -> Callable[..., Any]:
    return _table_write(original, _key_of_attributes)


def _delete_item(original: Callable[..., Any]) -> Callable[..., Any]:
    return _table_write(original, lambda _table, call: _key_of_delete(call))


def _update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def update_item(backend: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(backend, *args, **kwargs)  # may create the item, and changes it in place
        finally:
            try:
                arguments = signature.bind(backend, *args, **kwargs).arguments
                table = backend.get_table(arguments["table_name"])
            except Exception:  # no such table (or no such call): nothing was written
                table = None
            if table is not None and table in _indexes:
                _refresh(table, lambda: backend.get_keys_value(table, arguments["key"]))

    return update_item


def _refresh(table: Any, key_of: Callable[[], ItemKey]) -> None:
    """After a write to the item at that key (whether or not it succeeded): index it as it now is."""
    with _lock:
        index = _indexes.get(table)
        if index is None:
            return
        if index.items is not table.items:
            del _indexes[table]
            return
        try:
            key = key_of()
        except Exception:  # moto refused the key before writing anything
            return
        index.remove(key)
        item = _live(table, key)
        if item is not None:
            index.place(item)


def _partition(table: Any, index_name: str | None, hash_key_conditions: Any) -> list[Any] | None:
    """The items that may match a GSI query on this hash value, in moto's `all_items()` order; None: not ours."""
    from moto.dynamodb.models.table import GlobalSecondaryIndex

    if _bypass or not index_name or not hash_key_conditions:
        return None
    index = {i.name: i for i in table.all_indexes()}.get(index_name)  # as moto resolves it
    if not isinstance(index, GlobalSecondaryIndex) or not any(index is g for g in table.global_indexes or []):
        return None
    attributes = _hash_attributes(table)
    if index_name not in attributes:
        return None
    values = [value for name, value in hash_key_conditions if name == attributes[index_name]]
    value = _value_key(values[0]) if len(values) == 1 else None
    if value is None:
        return None
    with _lock:
        current = _indexes.get(table)
        if current is None or current.items is not table.items or current.attributes != attributes:
            try:
                current = _build(table, attributes)
            except RuntimeError:  # the table changed under the walk (a concurrent writer): moto's own way
                return None
            _indexes[table] = current
        live = (_live(table, key) for key in current.partitions[index_name].get(value, ()))
        items = [item for item in live if item is not None]
    items.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)  # as all_items() sorts
    return items


def _build(table: Any, attributes: dict[str, str]) -> _TableIndex:
    from moto.dynamodb.models.dynamo_type import Item

    index = _TableIndex(items=table.items, attributes=attributes, partitions={name: {} for name in attributes})
    for bucket in list(table.items.values()):
        for item in bucket.values() if isinstance(bucket, dict) else [bucket]:
            if isinstance(item, Item):
                index.place(item)
    return index


def _hash_attributes(table: Any) -> dict[str, str]:
    """GSI name → hash attribute, for the GSIs with a single hash attribute."""
    attributes: dict[str, str] = {}
    for index in table.global_indexes or []:
        hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
        if len(hashes) == 1:
            attributes[index.name] = hashes[0]
    return attributes


def _value_key(value: Any) -> Hashable | None:
    """Equal exactly when moto's DynamoType values are equal (same type, same cast value); None: not hashable."""
    if value is None:
        return None
    try:
        key = (value.type, value.cast_value)
        hash(key)
    except (TypeError, AttributeError):  # sets, lists, maps (never a key value); not a DynamoType
        return None
    return key


def _key_of_delete(call: inspect.BoundArguments) -> ItemKey:
    return call.arguments["hash_key"], call.arguments.get("range_key")


def _key_of_attributes(table: Any, call: inspect.BoundArguments) -> ItemKey:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attrs = call.arguments["item_attrs"]
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr is not None else None
    return hash_value, range_value


def _live(table: Any, key: ItemKey) -> Any:
    """The item the table holds at that key, or None (without creating entries in moto's defaultdict)."""
    from moto.dynamodb.models.dynamo_type import Item

    hash_value, range_value = key
    bucket = table.items.get(hash_value)
    if isinstance(bucket, dict):
        bucket = bucket.get(range_value) if range_value is not None else None
    elif range_value is not None:
        bucket = None
    return bucket if isinstance(bucket, Item) else None
