# Rotatie van de hoofdsleutel (`tessera key`, docs/design/key-rotation.md): namen in het auditlogboek.
action-master_key_added = Hoofdsleutel toegevoegd
action-sealing_key_changed = Versleutelende hoofdsleutel gewijzigd
action-master_key_retired = Hoofdsleutel buiten gebruik gesteld
