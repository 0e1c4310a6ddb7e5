"""What the mapper does with each message on its queue: turn stored records into Xero documents."""

from ledgerbridge.common.messaging.consumer import Handler
from ledgerbridge.common.messaging.messages import MapRecord
from ledgerbridge.common.worker import fixed_handlers
from ledgerbridge.mapper.record_mapping import map_record, record_failed

handlers = fixed_handlers(Handler(MapRecord, map_record, record_failed))
