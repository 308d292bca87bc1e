        // The wiring cost's weight part needs every pair's distance
        if (component == 0) {
            DistanceT[id_syn] = dist;
        }
