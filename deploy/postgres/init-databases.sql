-- docker-compose: one database per service, created on the first start of an empty volume.
-- (Kubernetes uses CloudNativePG Database resources instead: deploy/k8s/base/postgres/.)
CREATE DATABASE channel_partner;
CREATE DATABASE channel_kpi;
CREATE DATABASE channel_rebate;
CREATE DATABASE channel_alert;
CREATE DATABASE channel_gateway;
