"""The store bus: Mosquitto configuration, ACLs, device credentials, a local broker launcher.

Modules: ``config`` (StoreBrokerConfig, rendered mosquitto.conf and ACL), ``ca`` (the store
CA), ``credentials`` (DeviceRegistry), ``passwords`` (Mosquitto ``$7$`` hashes), ``launcher``
(LocalBroker), ``cli`` (``tillpi broker ...``), ``endpoint`` (MqttEndpoint) and ``contract``
(topics and payloads). Nothing is imported or started here.
"""
