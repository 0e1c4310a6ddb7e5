"""What the mapper does with each message on its queue: turn stored records into Xero documents."""

from ledgerbridge.common.messaging.consumer import Handler
from ledgerbridge.common.messaging.messages import MapRecord, MapRecords
from ledgerbridge.common.worker import fixed_handlers
from ledgerbridge.mapper.record_mapping import map_record, map_records, record_failed, records_failed

handlers = fixed_handlers(
    Handler(MapRecords, map_records, records_failed), Handler(MapRecord, map_record, record_failed)
)
