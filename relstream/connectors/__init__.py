"""Connectors: Dynamics 365 (Dataverse Web API) and Exchange Online (Microsoft Graph) into Kafka (SPEC §2, §7).

Each connector pages through OData delta queries, maps rows to SPEC §2 events with pure functions
(`dataverse_map`, `graph_map`), publishes a page as one Kafka batch and only then advances its
checkpoint, so a crash re-sends at most one page.
"""
