# Master key rotation (`tessera key`, docs/design/key-rotation.md): the audit log's names.
action-master_key_added = Master key added
action-sealing_key_changed = Sealing master key changed
action-master_key_retired = Master key retired
