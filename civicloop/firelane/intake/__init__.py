"""Camera event intake of 生命通道: three ways in, one way to store.

- `isapi`: a Hikvision camera pushes an ANPR alert (multipart XML + JPEGs) over HTTP;
- `frigate` + `mqtt`: Frigate NVR publishes tracked-object events on MQTT;
- `jsonapi`: other vendors post our JSON form with an API key.

Each parser turns its input into `events.CameraEvent`s; `services.sightings_record` applies
the rules every path shares and stores each event once (`Sighting`, unique per camera and
event key). The lead's tracker reads the plates afterwards (`tasks.PROCESS_TASK`).
"""
